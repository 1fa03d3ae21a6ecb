/// Where the answer of a coordinated write goes.
enum WriteOrigin: Hashable {
    /// A client of this node.
    case client(RequestID)
    /// A non-replica that forwarded the client's write here (Dynamo §4.5).
    case forwarded(from: Address, op: UInt64)
}

/// What every operation a node coordinates is bound by: the key, the
/// quorum it must reach, and when it must give up trying.
struct OperationTerms: Hashable {
    var key: Key
    var quorum: Int
    /// After this time no new node is asked; the operation ends with what it has.
    var deadline: Double
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

    /// The nodes a read deals with.
    struct Targets: Hashable {
        /// The key's replicas: only they get read repair.
        var replicas: [String]
        /// Stand-in candidates not yet asked, in preference-list order.
        var candidates: [String]
        /// Asked nodes that have not answered yet, in the order they were asked.
        var pending: [String]
    }

    /// The replies so far.
    struct Answers: Hashable {
        /// In the order they came (deterministic repair order).
        var replies: [Reply] = []
        /// Every reply merged in the order they came, kept as they arrive so
        /// that answering and repairing merge nothing again.
        var merged = SiblingSet()
    }

    var client: RequestID
    var terms: OperationTerms
    var targets: Targets
    private(set) var answers = Answers()
    var answered = false

    init(
        client: RequestID, key: Key, quorum: Int, replicas: [String], candidates: [String], pending: [String],
        deadline: Double
    ) {
        self.client = client
        terms = OperationTerms(key: key, quorum: quorum, deadline: deadline)
        targets = Targets(replicas: replicas, candidates: candidates, pending: pending)
    }

    var key: Key { terms.key }
    var quorum: Int { terms.quorum }
    var deadline: Double { terms.deadline }
    var replicas: [String] { targets.replicas }
    // The `_modify` accessors change the arrays in place: through a getter
    // and a setter, every change would copy the array first.
    var candidates: [String] {
        get { targets.candidates }
        _modify { yield &targets.candidates }
    }
    var pending: [String] {
        get { targets.pending }
        _modify { yield &targets.pending }
    }
    var replies: [Reply] { answers.replies }
    var merged: SiblingSet { answers.merged }

    /// What one reply leaves the coordinator to do.
    struct Progress {
        /// The client to answer and the merged versions, the first time
        /// `quorum` replies are in; nil otherwise.
        var answer: (client: RequestID, merged: SiblingSet)?
        /// Whether no asked node is left to answer.
        var isComplete: Bool
    }

    /// Records `peer`'s reply, merges it into `merged`, and marks the read
    /// answered once `quorum` replies are in. The coordinator changes the
    /// operation in place through this one call, reading nothing else of it.
    /// - Returns: nil, changing nothing, when `peer` has already replied.
    mutating func record(_ siblings: SiblingSet, from peer: String) -> Progress? {
        guard !answers.replies.contains(where: { $0.peer == peer }) else { return nil }
        pending.removeAll { $0 == peer }
        answers.replies.append(Reply(peer: peer, siblings: siblings))
        answers.merged.merge(siblings, policy: MergePolicy.forKey(key))
        var progress = Progress(answer: nil, isComplete: pending.isEmpty)
        if !answered && replies.count >= quorum {
            answered = true
            progress.answer = (client: client, merged: merged)
        }
        return progress
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
    /// What the write stored at the coordinator.
    struct Written: Hashable {
        /// The coordinator's whole record after the write: replicas get all
        /// of it, so any node holding the new dot also holds what the
        /// coordinator knew.
        var siblings: SiblingSet
        /// The new version's metadata, the answer to the client.
        var metadata: String
    }

    /// Where the copies go.
    struct Placement: Hashable {
        /// One per replica.
        var slots: [WriteSlot]
        /// Stand-in candidates not yet asked, in preference-list order.
        var candidates: [String]
    }

    var origin: WriteOrigin
    var terms: OperationTerms
    var written: Written
    var placement: Placement
    var answered = false

    init(
        origin: WriteOrigin, key: Key, quorum: Int, siblings: SiblingSet, metadata: String, slots: [WriteSlot],
        candidates: [String], deadline: Double
    ) {
        self.origin = origin
        terms = OperationTerms(key: key, quorum: quorum, deadline: deadline)
        written = Written(siblings: siblings, metadata: metadata)
        placement = Placement(slots: slots, candidates: candidates)
    }

    var key: Key { terms.key }
    var quorum: Int { terms.quorum }
    var deadline: Double { terms.deadline }
    var siblings: SiblingSet { written.siblings }
    var metadata: String { written.metadata }
    // Changed in place, as `ReadOperation`'s arrays are.
    var slots: [WriteSlot] {
        get { placement.slots }
        _modify { yield &placement.slots }
    }
    var candidates: [String] {
        get { placement.candidates }
        _modify { yield &placement.candidates }
    }

    var stored: Int { slots.count { $0.state == .stored } }
    var isSettled: Bool { !slots.contains { $0.state == .pending } }

    /// `peer` stored its copy: the first slot it holds that is pending is stored.
    /// - Returns: false, changing nothing, when `peer` holds no pending slot.
    mutating func acknowledge(from peer: String) -> Bool {
        guard let i = slots.firstIndex(where: { $0.holder == peer && $0.state == .pending }) else { return false }
        slots[i].state = .stored
        return true
    }
}

/// A client write this node (not a replica) forwards to a replica, in two
/// phases (see `KvorumNode.startPut`).
struct ForwardOperation: Hashable {
    /// The client's write as it travels in `forwardPut`.
    struct Write: Hashable {
        var key: Key
        var payload: Payload
        var context: VersionVector?
        var quorum: Int
    }

    var client: RequestID
    var write: Write
    /// The replica offered the operation last.
    var target: String
    var tried: [String]
    /// Whether the write itself went to `target`: from then on the operation
    /// never turns to another replica.
    var handedOver = false

    init(
        client: RequestID, key: Key, payload: Payload, context: VersionVector?, quorum: Int, target: String,
        tried: [String]
    ) {
        self.client = client
        write = Write(key: key, payload: payload, context: context, quorum: quorum)
        self.target = target
        self.tried = tried
    }

    var key: Key { write.key }
    var payload: Payload { write.payload }
    var context: VersionVector? { write.context }
    var quorum: Int { write.quorum }
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
