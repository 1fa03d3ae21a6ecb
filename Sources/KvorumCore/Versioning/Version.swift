/// One version of a key's value: the value, the dot of the write that created
/// it, and the causal past the writer had seen (its context).
///
/// The version's history is `past` plus the single event `dot` (not the
/// events of the same actor before it: those may be concurrent siblings). A version without a dot is a
/// *merged* version produced by a sibling-resolution policy (the cart merge):
/// its history is exactly `past`, the join of the histories it merged. Merged
/// versions are deterministic, so every replica that merges the same siblings
/// produces byte-identical metadata.
public struct Version: Hashable, Sendable, Codable {
    public var dot: Dot?
    public var past: VersionVector
    public var value: String
    /// For `xcart` keys only (nil for every other key): each item of the value
    /// with the dots of the writes that added it, in canonical order (see
    /// `XCart`). Part of the version (compared, stored, sent to peers) but not
    /// of its metadata string.
    public var tags: [ItemTag]?
    /// For `xcart` keys only: the (item, tag) pairs removed in this version's
    /// history, each with a write that removed it, in canonical order; nil
    /// when there are none. Lets a coordinator rebuild what an older context
    /// saw (see `XCart`). Compared, stored and sent like `tags`.
    public var removed: [RemovedTag]?

    public init(dot: Dot?, past: VersionVector, value: String, tags: [ItemTag]? = nil, removed: [RemovedTag]? = nil) {
        self.dot = dot
        self.past = past
        self.value = value
        self.tags = tags.map(XCart.canonical)
        self.removed = removed.flatMap { $0.isEmpty ? nil : XCart.canonical($0) }
    }

    private enum CodingKeys: String, CodingKey {
        case dot, past, value, tags, removed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            dot: try container.decodeIfPresent(Dot.self, forKey: .dot),
            past: try container.decode(VersionVector.self, forKey: .past),
            value: try container.decode(String.self, forKey: .value),
            tags: try container.decodeIfPresent([ItemTag].self, forKey: .tags),
            removed: try container.decodeIfPresent([RemovedTag].self, forKey: .removed))
    }

    /// Everything this version has seen, itself included.
    public var history: VersionVector {
        guard let dot else { return past }
        return past.adding(dot)
    }

    /// The highest counter `actor` has used in this version's history: the
    /// same as `history.maxCounter(of:)`, without building the history.
    public func maxCounter(of actor: String) -> UInt64 {
        guard let dot, dot.actor == actor else { return past.maxCounter(of: actor) }
        return max(dot.counter, past.maxCounter(of: actor))
    }

    /// Two versions are the same version when they have the same dot, or are
    /// merged versions of the same history.
    public func isSameVersion(as other: Version) -> Bool {
        switch (dot, other.dot) {
        case (let a?, let b?): a == b
        case (nil, nil): past == other.past
        default: false
        }
    }

    /// True when this version's history includes `other` (Dynamo §4.4: "descends").
    /// A version descends itself.
    public func descends(_ other: Version) -> Bool {
        if isSameVersion(as: other) { return true }
        if let otherDot = other.dot { return past.covers(otherDot) }
        return history.dominatesOrEquals(other.past)
    }

    /// The opaque metadata string clients see: canonical, so the same version
    /// has the same bytes on every node (see `Metadata`).
    public var metadata: String { Metadata.encode(self) }
}
