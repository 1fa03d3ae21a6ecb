/// A version vector: for each actor, the highest counter whose events (and all
/// earlier events of that actor for the same key) are known.
///
/// Dynamo §4.4 uses vector clocks of (node, counter) pairs; here the actor is a
/// node plus an epoch (see `Version`), which keeps dots unique across data loss.
public struct VersionVector: Hashable, Sendable {
    public private(set) var counters: [String: UInt64]

    public init(_ counters: [String: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    public var isEmpty: Bool { counters.isEmpty }

    public subscript(actor: String) -> UInt64 { counters[actor] ?? 0 }

    /// Actors in canonical (byte-wise) order.
    public var actors: [String] { counters.keys.sorted(by: byteOrder) }

    public func covers(_ dot: Dot) -> Bool { self[dot.actor] >= dot.counter }

    /// True when every event known to `other` is known here too.
    public func dominatesOrEquals(_ other: VersionVector) -> Bool {
        other.counters.allSatisfy { self[$0.key] >= $0.value }
    }

    public mutating func add(_ dot: Dot) {
        if dot.counter > self[dot.actor] { counters[dot.actor] = dot.counter }
    }

    public mutating func join(_ other: VersionVector) {
        for (actor, counter) in other.counters where counter > self[actor] {
            counters[actor] = counter
        }
    }

    public func joined(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.join(other)
        return copy
    }
}

extension VersionVector: Codable {
    private struct Entry: Codable {
        var actor: String
        var counter: UInt64
    }

    public init(from decoder: any Decoder) throws {
        let entries = try decoder.singleValueContainer().decode([Entry].self)
        self.init(Dictionary(entries.map { ($0.actor, $0.counter) }, uniquingKeysWith: max))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(actors.map { Entry(actor: $0, counter: counters[$0]!) })
    }
}
