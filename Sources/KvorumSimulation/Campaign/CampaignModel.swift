import KvorumCore

/// What the campaign's clients did and were told, kept by the campaign
/// itself: the model the invariants hold the nodes' stores against.
///
/// Causality in the model comes only from what clients sent: a write W2
/// supersedes a write W1 iff W2's context (the metadata W2's client sent,
/// parsed with `Metadata.context(from:)`) covers W1's dot. Every written
/// value is unique in a campaign, so a stored version is traced back to the
/// client write that made it by its value; a tombstone, which has no value,
/// to a delete by its past, which is the context the delete was sent with.
public struct CampaignModel: Sendable {
    /// What a client write does.
    public enum Kind: Sendable, Equatable {
        case put
        /// A tombstone superseding what its context covers.
        case delete
    }

    /// One client PUT or DELETE.
    public struct Write: Sendable {
        /// Index in `writes`.
        public var index: Int
        public var client: Int
        public var kind: Kind = .put
        public var key: String
        /// Unique in the campaign for a PUT; empty for a DELETE.
        public var value: String
        /// For a cart add: the fresh item it added.
        public var item: String?
        /// The metadata the client sent, nil for a blind PUT.
        public var sentMetadata: String?
        /// The causal context the write was made with (empty when blind).
        public var context: VersionVector
        public var node: String
        public var quorum: Int
        public var request: RequestID
        public var sentAt: Double
        public var outcome: Outcome = .pending

        /// The acknowledged metadata and dot, if the write got a `PUT_RESP`.
        public var acknowledged: (metadata: String, dot: Dot)? {
            if case .acknowledged(let metadata, let dot) = outcome { return (metadata, dot) }
            return nil
        }

        /// `c1.w7 "value" (put at node03 q2, ctx …)` for violation reports.
        public var summary: String {
            var text =
                kind == .delete
                ? "delete #\(index) by client \(client) of \(key) at \(node) q\(quorum)"
                : "write #\(index) by client \(client) \"\(value)\" to \(key) at \(node) q\(quorum)"
            text += " sent \(TraceFormat.seconds(sentAt)) s"
            text += sentMetadata.map { " with metadata \($0)" } ?? " blind"
            switch outcome {
            case .pending: text += ", no reply"
            case .acknowledged(let metadata, _): text += ", acknowledged \(metadata)"
            case .failed(let reason): text += ", failed: \(reason)"
            case .lost: text += ", lost (\(node) crashed)"
            }
            return text
        }
    }

    /// How a write ended for its client.
    public enum Outcome: Sendable {
        case pending
        /// `PUT_RESP` with this metadata; `dot` is its part before `|`.
        case acknowledged(metadata: String, dot: Dot)
        /// `ERROR` (it may still have been applied).
        case failed(String)
        /// The node crashed before replying (it may still have been applied).
        case lost
    }

    /// One client request the campaign sent (JOIN and LEAVE get no reply and
    /// are not listed).
    public struct Request: Sendable {
        public var id: RequestID
        public var node: String
        public var type: String
        public var sentAt: Double
        /// The node's crash count when the request was sent: a later crash
        /// loses the request.
        public var life: Int
    }

    /// A JOIN or LEAVE the campaign issued, and the members expected after it.
    public struct MembershipChange: Sendable {
        public var description: String
        public var at: Double
        public var members: [String]
    }

    public internal(set) var writes: [Write] = []
    public internal(set) var requests: [Request] = []
    /// Every key the workload used, plain keys first.
    public internal(set) var keys: [String] = []
    /// The members expected now, in byte-wise order.
    public internal(set) var members: [String] = []
    public internal(set) var membershipChanges: [MembershipChange] = []
    /// How many times each node has crashed.
    public internal(set) var crashes: [String: Int] = [:]
    /// Writes by value (values are unique).
    var writeByValue: [String: Int] = [:]

    public init() {}

    /// The client write that produced a stored value, if the model knows it.
    public func write(withValue value: String) -> Write? {
        writeByValue[value].map { writes[$0] }
    }

    /// The client write or delete that produced a stored dotted version, if
    /// the model knows it: a PUT by its unique value, a DELETE of `key` by
    /// the context it was sent with (the tombstone's past).
    public func writer(of version: Version, key: String) -> Write? {
        guard version.isTombstone else { return write(withValue: version.value) }
        return writes.first { $0.kind == .delete && $0.key == key && $0.context == version.past }
    }

    /// Acknowledged deletes, in the order they were sent.
    public var acknowledgedDeletes: [Write] {
        acknowledgedWrites.filter { $0.kind == .delete }
    }

    /// Acknowledged writes, in the order they were sent.
    public var acknowledgedWrites: [Write] {
        writes.filter { $0.acknowledged != nil }
    }

    mutating func add(_ write: Write) {
        if write.kind == .put { writeByValue[write.value] = write.index }
        writes.append(write)
    }

    /// The dot of a version from its metadata: the part before `|`, nil for a
    /// merged version (or text that is not metadata).
    public static func dot(ofMetadata metadata: String) -> Dot? {
        guard let bar = metadata.firstIndex(of: "|"), bar != metadata.startIndex,
            let vector = try? Metadata.context(from: String(metadata[..<bar]) + "|")
        else { return nil }
        if let dot = vector.dots.first { return dot }
        guard let actor = vector.actors.first else { return nil }
        return Dot(actor: actor, counter: vector[actor])
    }

    /// The causal context of a metadata string, empty if it does not parse.
    public static func context(ofMetadata metadata: String) -> VersionVector {
        (try? Metadata.context(from: metadata)) ?? VersionVector()
    }
}

extension Dot {
    /// `actor:counter`.
    var text: String { "\(actor):\(counter)" }
}

extension SiblingSet {
    /// `["v1"@meta1, "v2"@meta2]` in full, for violation reports.
    var summary: String {
        "[" + versions.map { ($0.isTombstone ? "⊘" : "\"\($0.value)\"") + "@\($0.metadata)" }.joined(separator: ", ")
            + "]"
    }
}
