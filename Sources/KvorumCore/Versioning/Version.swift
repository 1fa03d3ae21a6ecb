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
    /// The fields, in one shared object: a version is copied far more often
    /// than it is made (into sibling sets, messages, replies, every merge),
    /// and copying a reference costs one retain where copying the fields
    /// themselves cost one per string, array and table they hold.
    private final class Fields: Sendable {
        let dot: Dot?
        let past: VersionVector
        let payload: Payload
        let tags: [ItemTag]?
        let removed: [RemovedTag]?

        init(dot: Dot?, past: VersionVector, payload: Payload, tags: [ItemTag]?, removed: [RemovedTag]?) {
            self.dot = dot
            self.past = past
            self.payload = payload
            self.tags = tags
            self.removed = removed
        }
    }

    private var fields: Fields

    public var dot: Dot? { fields.dot }
    public var past: VersionVector { fields.past }
    /// The value written, or the tombstone of a delete.
    public var payload: Payload { fields.payload }
    /// For `xcart` keys only (nil for every other key): each item of the value
    /// with the dots of the writes that added it, in canonical order (see
    /// `XCart`). Part of the version (compared, stored, sent to peers) but not
    /// of its metadata string. The one field with a setter, which stores
    /// the tags as given (not made canonical): tests build tagged copies.
    public var tags: [ItemTag]? {
        get { fields.tags }
        set { fields = Fields(dot: dot, past: past, payload: payload, tags: newValue, removed: removed) }
    }
    /// For `xcart` keys only: the (item, tag) pairs removed in this version's
    /// history, each with a write that removed it, in canonical order; nil
    /// when there are none. Lets a coordinator rebuild what an older context
    /// saw (see `XCart`). Compared, stored and sent like `tags`.
    public var removed: [RemovedTag]? { fields.removed }

    public init(
        dot: Dot?, past: VersionVector, payload: Payload, tags: [ItemTag]? = nil, removed: [RemovedTag]? = nil
    ) {
        fields = Fields(
            dot: dot, past: past, payload: payload, tags: tags.map(XCart.canonical),
            removed: removed.flatMap { $0.isEmpty ? nil : XCart.canonical($0) })
    }

    public static func == (a: Version, b: Version) -> Bool {
        a.fields === b.fields
            || (a.dot == b.dot && a.past == b.past && a.payload == b.payload && a.tags == b.tags
                && a.removed == b.removed)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dot)
        hasher.combine(past)
        hasher.combine(payload)
        hasher.combine(tags)
        hasher.combine(removed)
    }

    /// A version holding a text value without a content type.
    public init(dot: Dot?, past: VersionVector, value: String, tags: [ItemTag]? = nil, removed: [RemovedTag]? = nil) {
        self.init(dot: dot, past: past, payload: .value(Value(text: value)), tags: tags, removed: removed)
    }

    /// The value as text (see `Value.text`); empty for a tombstone.
    public var value: String { payload.value?.text ?? "" }

    public var isTombstone: Bool { payload.isTombstone }

    /// JSON fields (the stdio bridge's peer messages, and stores of schema 1):
    /// `value` holds a value that is UTF-8 text, `bytes` (an array of
    /// numbers) any other; `contentType` and `tombstone` appear when set.
    private enum CodingKeys: String, CodingKey {
        case dot, past, value, bytes, contentType, tombstone, tags, removed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let payload: Payload
        if try container.decodeIfPresent(Bool.self, forKey: .tombstone) == true {
            payload = .tombstone
        } else {
            let bytes =
                try container.decodeIfPresent([UInt8].self, forKey: .bytes)
                ?? Array(try container.decode(String.self, forKey: .value).utf8)
            payload = .value(
                Value(bytes: bytes, contentType: try container.decodeIfPresent(String.self, forKey: .contentType)))
        }
        self.init(
            dot: try container.decodeIfPresent(Dot.self, forKey: .dot),
            past: try container.decode(VersionVector.self, forKey: .past),
            payload: payload,
            tags: try container.decodeIfPresent([ItemTag].self, forKey: .tags),
            removed: try container.decodeIfPresent([RemovedTag].self, forKey: .removed))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(dot, forKey: .dot)
        try container.encode(past, forKey: .past)
        switch payload {
        case .tombstone:
            try container.encode(true, forKey: .tombstone)
        case .value(let value):
            if let text = value.exactText {
                try container.encode(text, forKey: .value)
            } else {
                try container.encode(value.bytes, forKey: .bytes)
            }
            try container.encodeIfPresent(value.contentType, forKey: .contentType)
        }
        try container.encodeIfPresent(tags, forKey: .tags)
        try container.encodeIfPresent(removed, forKey: .removed)
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

extension Version: CustomDebugStringConvertible {
    /// The fields, as a test's failed expectation shows them.
    public var debugDescription: String {
        "Version(dot: \(String(describing: dot)), past: \(past), payload: \(payload), tags: \(String(describing: tags)), removed: \(String(describing: removed)))"
    }
}
