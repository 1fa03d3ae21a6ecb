/// Where the answer of a coordinated write goes.
enum WriteOrigin: Equatable {
    /// A client of this node.
    case client(RequestID)
    /// A non-replica that forwarded the client's write here (Dynamo §4.5).
    case forwarded(from: Address, op: UInt64)
}

/// A read this node coordinates (Dynamo §4.5): asks the first N healthy nodes
/// of the preference list, answers after `quorum` replies, keeps listening
/// until every asked node replied or timed out, then repairs stale replicas.
struct ReadOperation {
    var client: RequestID
    var key: String
    var quorum: Int
    /// The key's replicas: only they get read repair.
    var replicas: [String]
    /// Stand-in candidates not yet asked, in preference-list order.
    var candidates: [String]
    /// Asked nodes that have not answered yet, in the order they were asked.
    var pending: [String]
    /// Replies in the order they came (deterministic repair order).
    var replies: [(peer: String, siblings: SiblingSet)] = []
    /// Every reply merged in the order they came, kept as they arrive so
    /// that answering and repairing merge nothing again.
    var merged = SiblingSet()
    var answered = false
    var deadline: Double

    /// Records `peer`'s reply and merges it into `merged`.
    /// - Returns: false, changing nothing, when `peer` has already replied.
    mutating func record(_ siblings: SiblingSet, from peer: String) -> Bool {
        guard !replies.contains(where: { $0.peer == peer }) else { return false }
        pending.removeAll { $0 == peer }
        replies.append((peer, siblings))
        merged.merge(siblings, policy: MergePolicy.forKey(key))
        return true
    }
}

/// One of the N copies a write must make: the replica it belongs to and the
/// node currently asked to hold it (the replica itself or a stand-in).
struct WriteSlot {
    enum State: Equatable {
        case pending
        case stored
        /// No node took the copy; the coordinator keeps a hint for the replica.
        case hintedLocally
    }

    var replica: String
    var holder: String
    var state: State
}

/// A write this node coordinates: stored locally first (that is where its dot
/// comes from), then sent to the other replicas, or to stand-ins with a hint
/// for each replica that is suspected or does not answer (Dynamo §4.6).
struct WriteOperation {
    var origin: WriteOrigin
    var key: String
    var quorum: Int
    /// The coordinator's whole record after the write: replicas get all of it,
    /// so any node holding the new dot also holds what the coordinator knew.
    var siblings: SiblingSet
    var metadata: String
    var slots: [WriteSlot]
    var candidates: [String]
    var answered = false
    var deadline: Double

    var stored: Int { slots.filter { $0.state == .stored }.count }
    var isSettled: Bool { !slots.contains { $0.state == .pending } }
}

/// A client write this node (not a replica) handed to a replica.
struct ForwardOperation {
    var client: RequestID
    var key: String
    var value: String
    var context: VersionVector?
    var quorum: Int
    var target: String
    var tried: [String]
    var accepted = false
}
