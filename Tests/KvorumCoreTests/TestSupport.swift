import KvorumCore
import KvorumTestKit

/// `count` distinct-looking keys drawn from a fixed seed.
func randomKeys(count: Int, seed: UInt64) -> [Key] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in Key("key-" + String(rng.next(), radix: 36)) }
}

/// Every ordering of `items` (n! of them: keep `items` small).
func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    return items.indices.flatMap { i in
        var rest = items
        let first = rest.remove(at: i)
        return permutations(rest).map { [first] + $0 }
    }
}

/// A version written through `actor` as its `counter`-th write, by a client whose context was `past`.
func dotted(_ actor: String, _ counter: UInt64, past: [String: UInt64] = [:], value: String? = nil) -> Version {
    Version(dot: Dot(actor: actor, counter: counter), past: VersionVector(past), value: value ?? "\(actor)@\(counter)")
}

/// A merged version (no dot) whose history is `past`.
func merged(_ past: [String: UInt64], value: String) -> Version {
    Version(dot: nil, past: VersionVector(past), value: value)
}
