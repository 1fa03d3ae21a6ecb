/// Where the answer of a coordinated write goes.
enum WriteOrigin: Hashable {
    /// A client of this node.
    case client(RequestID)
    /// A non-replica that forwarded the client's write here (Dynamo §4.5).
    case forwarded(from: Address, op: UInt64)
}

/// A read this node coordinates (Dynamo §4.5): asks the first N healthy nodes
/// of the preference list, answers after `quorum` replies, keeps listening
/// until every asked node replied or timed out, then repairs stale replicas.
struct ReadOperation: Hashable {
    /// One reply: who sent it and the versions it held.
    struct Reply: Hashable {
        var peer: String
        var siblings: SiblingSet
    }

    var client: RequestID
    var key: Key
    var quorum: Int
    /// The key's replicas: only they get read repair.
    var replicas: [String]
    /// Stand-in candidates not yet asked, in preference-list order.
    var candidates: [String]
    /// Asked nodes that have not answered yet, in the order they were asked.
    var pending: [String]
    /// Replies in the order they came (deterministic repair order).
    var replies: [Reply] = []
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
        replies.append(Reply(peer: peer, siblings: siblings))
        merged.merge(siblings, policy: MergePolicy.forKey(key))
        return true
    }
}

/// One of the N copies a write must make: the replica it belongs to and the
/// node currently asked to hold it (the replica itself or a stand-in).
struct WriteSlot: Hashable {
    enum State: Hashable {
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
struct WriteOperation: Hashable {
    var origin: WriteOrigin
    var key: Key
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

/// A client write this node (not a replica) forwards to a replica, in two
/// phases (see `KvorumNode.startPut`).
struct ForwardOperation: Hashable {
    var client: RequestID
    var key: Key
    var value: String
    var context: VersionVector?
    var quorum: Int
    /// The replica offered the operation last.
    var target: String
    var tried: [String]
    /// Whether the write itself went to `target`: from then on the operation
    /// never turns to another replica.
    var handedOver = false
}

/// The forwarded writes a replica has coordinated lately, by forwarder
/// address and operation id, so that a `forwardPut` the network delivers
/// twice is executed once. A forwarder's op ids are unique across its
/// restarts (they start in a fresh epoch range each life), so the pair names
/// one client write. Bounded: past `capacity` entries the oldest is
/// forgotten, in arrival order, so the ledger is deterministic.
struct ForwardLedger: Hashable {
    struct Entry: Hashable {
        var forwarder: Address
        var op: UInt64
    }

    let capacity: Int
    /// A ring buffer of the entries; `oldest` is where the next one goes once full.
    private var ring: [Entry] = []
    private var oldest = 0
    private var known: Set<Entry> = []

    init(capacity: Int) {
        precondition(capacity > 0, "the forward ledger needs room for at least one entry")
        self.capacity = capacity
    }

    /// Records an executed forward.
    /// - Returns: false, changing nothing, when it is already recorded.
    mutating func record(_ entry: Entry) -> Bool {
        guard known.insert(entry).inserted else { return false }
        if ring.count < capacity {
            ring.append(entry)
        } else {
            known.remove(ring[oldest])
            ring[oldest] = entry
            oldest = (oldest + 1) % capacity
        }
        return true
    }

    /// The entries, oldest first.
    var entries: [Entry] { Array(ring[oldest...] + ring[..<oldest]) }
}
