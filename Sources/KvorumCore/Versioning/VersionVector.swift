/// A causal context: the set of write events (dots) a version or a client has
/// seen, stored compactly as a version vector plus isolated dots.
///
/// `counters[a] = c` means every event `a:1 … a:c` is known. A dot beyond the
/// contiguous range (a concurrent sibling's write that was seen, while an
/// earlier one of the same actor was not) is kept in `dots`; it is folded
/// into `counters` once the gap below it closes. Treating such a dot as
/// contiguous would claim knowledge of writes never seen and silently drop
/// them: exactly the lost update dotted version vectors exist to prevent
/// (Preguiça et al.; Almeida et al., "Scalable and Accurate Causality
/// Tracking for Eventually Consistent Stores", 2014).
public struct VersionVector: Hashable, Sendable {
    public private(set) var counters: [String: UInt64]
    /// Known events beyond the contiguous ranges, in canonical order.
    public private(set) var dots: [Dot]

    public init(_ counters: [String: UInt64] = [:], dots: [Dot] = []) {
        self.counters = counters.filter { $0.value > 0 }
        self.dots = dots
        normalize()
    }

    public var isEmpty: Bool { counters.isEmpty && dots.isEmpty }

    /// The end of the contiguous range known for `actor`.
    public subscript(actor: String) -> UInt64 { counters[actor] ?? 0 }

    /// Actors of the contiguous ranges in canonical (byte-wise) order.
    public var actors: [String] { counters.keys.sorted(by: byteOrder) }

    /// The highest counter of `actor` known here, contiguous or not.
    public func maxCounter(of actor: String) -> UInt64 {
        dots.reduce(self[actor]) { $1.actor == actor ? max($0, $1.counter) : $0 }
    }

    public func covers(_ dot: Dot) -> Bool {
        self[dot.actor] >= dot.counter || dots.contains(dot)
    }

    /// True when every event known to `other` is known here too.
    public func dominatesOrEquals(_ other: VersionVector) -> Bool {
        other.counters.allSatisfy { self[$0.key] >= $0.value } && other.dots.allSatisfy(covers)
    }

    /// Adds one event (not the events before it).
    public mutating func add(_ dot: Dot) {
        guard !covers(dot) else { return }
        dots.append(dot)
        normalize()
    }

    public mutating func join(_ other: VersionVector) {
        for (actor, counter) in other.counters where counter > self[actor] {
            counters[actor] = counter
        }
        dots.append(contentsOf: other.dots)
        normalize()
    }

    public func joined(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.join(other)
        return copy
    }

    public func adding(_ dot: Dot) -> VersionVector {
        var copy = self
        copy.add(dot)
        return copy
    }

    /// Folds dots that extend a contiguous range into it, drops covered and
    /// duplicate dots, and sorts the rest.
    private mutating func normalize() {
        guard !dots.isEmpty else { return }
        dots.sort { a, b in a.actor == b.actor ? a.counter < b.counter : byteOrder(a.actor, b.actor) }
        var rest: [Dot] = []
        for dot in dots {
            let known = self[dot.actor]
            if dot.counter <= known || rest.last == dot { continue }
            if dot.counter == known + 1 {
                counters[dot.actor] = dot.counter
            } else {
                rest.append(dot)
            }
        }
        dots = rest
    }
}

extension VersionVector: Codable {
    private struct Entry: Codable {
        var actor: String
        var counter: UInt64
    }

    private enum CodingKeys: String, CodingKey {
        case counters
        case dots
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let entries = try container.decode([Entry].self, forKey: .counters)
        let dots = try container.decodeIfPresent([Entry].self, forKey: .dots) ?? []
        self.init(
            Dictionary(entries.map { ($0.actor, $0.counter) }, uniquingKeysWith: max),
            dots: dots.map { Dot(actor: $0.actor, counter: $0.counter) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(actors.map { Entry(actor: $0, counter: counters[$0]!) }, forKey: .counters)
        if !dots.isEmpty {
            try container.encode(dots.map { Entry(actor: $0.actor, counter: $0.counter) }, forKey: .dots)
        }
    }
}
