/// A Kvorum node: the whole replication logic as a deterministic state machine.
///
/// Events go in with the current time, effects come out (docs/architecture.md). The node
/// never reads a clock, never draws random numbers and never iterates an
/// unordered collection where the order could reach an effect. It is confined
/// to one thread of control: the driver calls `handle` serially.
///
/// Glossary (used throughout the doc comments):
/// - *replica*: one of the first N nodes of a key's preference list.
/// - *stand-in*: a later node of the preference list that takes a write for a
///   replica that is suspected or does not answer (sloppy quorum, Dynamo §4.6).
/// - *hint*: a stand-in's note that it holds a key for a replica; handed off
///   when the replica answers again.
/// - *sibling*: one of several concurrent versions of a key.
/// - *context*: the causal history a client read; a write with it supersedes
///   every version the context covers.
/// - *dot*: the (actor, counter) pair naming one write.
///
/// Actor epochs: a node writes to a key as actor `name.epoch`, where the epoch
/// is fresh (from durable storage) whenever the node coordinates a write to a
/// key for which it holds no record it wrote itself. A node that lost or handed
/// away a key therefore never reuses a dot and never claims to have seen its
/// own earlier writes it no longer holds. (Riak's per-key actor epochs solve
/// the same problem.)
public final class KvorumNode {
    /// Read many times per event (every message reads the heartbeat
    /// setting), so it skips the runtime's exclusivity check, as `state` does.
    @exclusivity(unchecked) public private(set) var config: NodeConfig
    public let storage: any Storage
    /// Everything the node keeps in memory between events.
    ///
    /// This and the next three are read and written many times per event,
    /// so they skip the runtime's exclusivity check (which costs more than
    /// most of those accesses): the node is confined to one thread and never
    /// hands them out while it changes them.
    @exclusivity(unchecked) var state: NodeState
    /// The time of the event being handled.
    @exclusivity(unchecked) private(set) var now: Double = 0
    /// The effects of the event being handled.
    @exclusivity(unchecked) var effects: [Effect] = []
    /// What the event being handled made happen, for logs and metrics.
    @exclusivity(unchecked) public private(set) var observations: [Observation] = []

    var n: Int { config.replicationFactor }
    var name: String { config.name }
    var view: MembershipView { state.membership.view }
    var ring: Ring { state.membership.ring }

    public init(config: NodeConfig, storage: any Storage) {
        self.config = config
        self.storage = storage
        let membership = MembershipState(
            entries: storage.membership(), partitionCount: config.partitionCount,
            joinContact: storage.joinContact())
        // Nothing here reads a record: the tree comes from the partition
        // summaries and the reaper from the deleted keys, so a start costs
        // the same whatever the store holds.
        let antiEntropy = AntiEntropyState(
            partitions: config.partitionCount, restoring: storage.partitionSummaries())
        let reaper = Reaper(deleted: storage.deletedKeys())
        state = NodeState(
            membership: membership,
            hints: HintQueue(restoring: storage.hints()),
            coordinator: Coordinator(epoch: storage.nextEpoch(), ledgerCapacity: config.forwardLedgerCapacity),
            antiEntropy: antiEntropy, reaper: reaper)
    }

    /// A copy of `other` working on `storage`, which must hold a copy of
    /// `other`'s storage: for the model checker, which branches a cluster into
    /// each possible next event. Nothing is read from storage, so the copy is
    /// exact (no fresh epoch, no rebuilt tree).
    public init(copying other: KvorumNode, storage: any Storage) {
        config = other.config
        self.storage = storage
        state = other.state
        now = other.now
    }

    /// Handles one event at time `now` and returns what the driver must do.
    public func handle(_ event: Event, now: Double) -> [Effect] {
        self.now = now
        // The caller has dropped the previous result by now, so the buffer is
        // reused rather than allocated again for every event.
        effects.removeAll(keepingCapacity: true)
        observations.removeAll(keepingCapacity: true)
        switch event {
        case .start:
            onStart()
        case .boot(let contact):
            onStart()
            rejoin(via: contact)
        case .client(let id, let request):
            onClient(id, request)
        case .command(let id, let command):
            onCommand(id, command, acknowledgeMembership: true)
        case .peer(let from, let message):
            onPeer(from: from, message)
        case .timer(let timer):
            onTimer(timer)
        }
        assert(
            { () -> Bool in
                let violations = storage.uncounted { invariantViolations() }
                guard violations.isEmpty else {
                    print("node \(name) broke its invariants after \(event): \(violations)")
                    return false
                }
                return true
            }(), "node invariants")
        return effects
    }

    /// Restores what a process start loses: the timers, and a JOIN in progress.
    private func onStart() {
        armHandoff()
        if state.membership.joinContact != nil { onJoinTimer() }
        armAntiEntropy(first: true)
        armViewExchange(first: true)
        armReaper()
        armHeartbeat()
    }

    /// The HTTP address the node reports, once the driver knows it (a
    /// server told to listen on port 0 learns its port when it binds).
    public func setHTTPAddress(_ address: String) {
        config.httpAddress = address
    }

    // MARK: - Reading the node's state (for drivers and tests)

    /// Names of the members this node believes are up.
    public var members: [String] { view.upMembers }
    /// The entries of the members this node believes are up, by name.
    public var memberEntries: [MemberEntry] { view.sorted.filter { $0.status == .up } }
    /// Peers this node currently suspects.
    public var suspectedPeers: [String] { state.detector.sorted }
    /// Hints waiting for handoff.
    public var pendingHintCount: Int { state.hints.count }
    /// Hints pending per target node, in byte order of the targets.
    public var pendingHintsByTarget: [(target: String, count: Int)] {
        state.hints.targets.map { (target: $0, count: state.hints.count(for: $0)) }
    }
    /// Whether a tombstone-reaping check this node leads waits for answers.
    public var isCheckingTombstones: Bool { state.reaper.round != nil }
    /// Operations this node is coordinating.
    public var pendingOperationCount: Int { state.coordinator.count }

    // MARK: - Effects

    func reply(_ id: RequestID, _ reply: ClientReply) {
        effects.append(.reply(id, reply))
    }

    func send(_ body: PeerBody, toAddress address: Address) {
        effects.append(.send(to: address, PeerMessage(from: name, viewDigest: view.digest, body: body)))
    }

    func send(_ body: PeerBody, to peer: String) {
        guard let address = view.address(of: peer) else { return }
        send(body, toAddress: address)
    }

    func setTimer(_ timer: NodeTimer, after delay: Double) {
        state.timers.arm(timer, after: delay, effects: &effects)
    }

    func setTimerIfIdle(_ timer: NodeTimer, after delay: Double) {
        state.timers.armIfIdle(timer, after: delay, effects: &effects)
    }

    /// Cancels a timer this node armed and that has not fired yet.
    func cancelTimer(_ timer: NodeTimer) {
        state.timers.cancel(timer, effects: &effects)
    }

    func newOp() -> UInt64 { state.coordinator.newID() }

    /// Records something an operator may want to see (it changes nothing the node does).
    func observe(_ observation: Observation) {
        observations.append(observation)
    }

    // MARK: - Timers

    func onTimer(_ timer: NodeTimer) {
        guard state.timers.fire(timer) else { return }
        switch timer {
        case .probe: onProbeTimer()
        case .heartbeat: onHeartbeatTimer()
        case .handoff: onHandoffTimer()
        case .join: onJoinTimer()
        case .antiEntropy: onAntiEntropyTimer()
        case .viewExchange: onViewExchangeTimer()
        case .reap: onReapTimer()
        case .operation(let op):
            switch state.coordinator.kind(of: op) {
            case .read: onReadTimeout(op)
            case .write: onWriteTimeout(op)
            case .forward: onForwardTimeout(op)
            case .list: onListingTimeout(op)
            case nil: break
            }
        }
    }

    // MARK: - Failure suspicion (Dynamo §4.8.3: local, timeout-based)

    func isSuspected(_ peer: String) -> Bool { state.detector.isSuspected(peer) }

    /// Suspects a member that failed to answer; peers that are not up
    /// members are not tracked (nothing picks them).
    func suspect(_ peer: String) {
        guard peer != name, state.membership.isUp(peer), state.detector.suspect(peer) else { return }
        observe(.peerSuspected(peer))
        setTimerIfIdle(.probe, after: config.probeInterval)
    }

    func onProbeTimer() {
        let membership = state.membership
        for peer in state.detector.probeRound(isMember: membership.isUp) {
            noteProbe(of: peer)
            send(.ping, to: peer)
        }
        if !state.detector.isEmpty {
            setTimer(.probe, after: config.probeInterval)
        }
    }

    // MARK: - Peer messages

    func onPeer(from address: Address, _ message: PeerMessage) {
        let peer = message.from
        if state.detector.heard(from: peer) { observe(.peerRecovered(peer)) }
        noteHeard(from: peer)
        switch message.body {
        case .view, .join, .joinRefused, .viewCheck: break
        default:
            noticeDigest(of: peer, digest: message.viewDigest, address: address)
        }
        switch message.body {
        case .forwardOffer(let op):
            send(.forwardReady(op: op), toAddress: address)
        case .forwardReady(let op):
            onForwardReady(op, from: peer, address: address)
        case .forwardPut(let op, let key, let payload, let context, let quorum):
            guard state.coordinator.admitForward(ForwardLedger.Entry(forwarder: address, op: op)) else { break }
            coordinateWrite(
                key: key, payload: payload, context: context, quorum: quorum,
                origin: .forwarded(from: address, op: op))
        case .forwardResult(let op, let outcome):
            onForwardResult(op, outcome)
        case .write(let op, let key, let siblings, let hintFor):
            storeReplica(siblings, for: key, hintFor: hintFor)
            send(.writeAck(op: op), toAddress: address)
        case .repair(let key, let siblings):
            storeReplica(siblings, for: key, hintFor: nil)
        case .writeAck(let op):
            onWriteAck(op, from: peer)
        case .read(let op, let key):
            send(.readReply(op: op, siblings: storage.record(for: key)?.siblings ?? SiblingSet()), toAddress: address)
        case .readReply(let op, let siblings):
            onReadReply(op, from: peer, siblings)
        case .handoff(let batch, let records):
            for record in records {
                store(record.siblings, for: record.key)
                passOnIfNotReplica(record.key)
            }
            send(.handoffAck(batch: batch), toAddress: address)
        case .handoffAck(let batch):
            onHandoffAck(batch)
        case .ping:
            send(.pong(pongReport), toAddress: address)
        case .pong(let report):
            onPong(from: peer, report: report)
        case .join(let entry):
            onJoinRequest(entry, from: address)
        case .joinRefused(let reason):
            onJoinRefused(reason, from: address)
        case .view(let entries):
            onView(entries, from: peer, address: address)
        case .viewCheck:
            onViewCheck(from: peer, digest: message.viewDigest, address: address)
        case .aeTree(let level, let entries):
            onTree(level: level, entries, from: peer, address: address)
        case .aeKeys(let partitions, let digests):
            onKeyDigests(partitions: partitions, digests, address: address)
        case .aeFetch(let keys):
            sendRecords(keys, toAddress: address)
        case .aeRecords(let records):
            let repaired = records.filter { store($0.siblings, for: $0.key) }.count
            for record in records { passOnIfNotReplica(record.key) }
            if repaired > 0 { observe(.antiEntropyRepaired(keys: repaired)) }
        case .reapCheck(let round, let keys):
            onReapCheck(round, keys: keys, from: address)
        case .reapStatus(let round, let held):
            onReapStatus(round, held: held, from: peer)
        case .reap(let records):
            onReap(records)
        case .listKeys(let op, let round, let partitions, let query):
            let answer = liveKeys(in: partitions, query)
            send(.listKeysReply(op: op, round: round, keys: answer.keys, full: answer.full), toAddress: address)
        case .listKeysReply(let op, let round, let keys, let full):
            onListingReply(op, round: round, from: peer, keys: keys, full: full)
        }
    }

    /// A copy from a coordinator (a write) or a read repair: stored, and as
    /// a stand-in (`hintFor`) with a hint for the replica it stands in for.
    private func storeReplica(_ siblings: SiblingSet, for key: Key, hintFor: String?) {
        store(siblings, for: key)
        if let hintFor, hintFor != name {
            addHint(target: hintFor, key: key)
        } else {
            passOnIfNotReplica(key)
        }
    }

    /// Writes a record to storage and keeps the hash tree in step.
    func putRecord(_ record: StoredRecord, for key: Key) {
        let encoded = WireCodec.encode(record.siblings)
        let place = TreePlace(key: key, encodedSiblings: encoded, partitionCount: config.partitionCount)
        let old = storage.setRecord(record, encoded: encoded, for: key, at: place)
        state.antiEntropy.replace(old, with: place.digest, partition: place.partition)
        noteForReaper(key, record.siblings)
    }

    /// The digest of the stored record of `key` (nil when there is none),
    /// as the store keeps it beside the record.
    func storedDigest(of key: Key) -> UInt64? {
        storage.digest(of: key)
    }

    /// Deletes a record from storage and from the hash tree.
    func deleteRecord(for key: Key) {
        if let old = storage.removeRecord(for: key) {
            state.antiEntropy.replace(old.digest, with: nil, partition: old.partition)
        }
        noteForReaper(key, nil)
    }

    /// A copy sent here by a node with an older view of the ring: this node
    /// is not (or no longer) a replica of the key, so it keeps hints for the
    /// current replicas rather than stranding an acknowledged write (found by
    /// campaign seeds 19 and 27 with anti-entropy off), or records it asked
    /// a peer for in an anti-entropy exchange that answered after the ring
    /// moved the key away (campaign seed 4589: the stranded copy outlived the
    /// key's delete at its replicas). The hints drain as
    /// usual, and then the copy is dropped. A node that has left does the
    /// same with a copy a member sent it before learning of the LEAVE: kept,
    /// it would be lost to the cluster and spared by reaping (campaign seed
    /// 236 of the quick configuration). A node still joining keeps what it
    /// gets: it is about to be a replica.
    func passOnIfNotReplica(_ key: Key) {
        guard !ring.isEmpty, state.membership.joinContact == nil, !ring.isReplica(name, of: key, n: n),
            storage.record(for: key) != nil
        else { return }
        for replica in ring.replicas(for: key, n: n) { addHint(target: replica, key: key) }
    }

    /// Merges versions into the local record, keeping the local actor.
    /// - Returns: whether the stored record changed.
    @discardableResult
    func store(_ siblings: SiblingSet, for key: Key) -> Bool {
        let existing = storage.record(for: key)
        var record = existing ?? StoredRecord(siblings: SiblingSet())
        let merged = record.siblings.merged(with: siblings, policy: MergePolicy.forKey(key))
        guard !merged.isEmpty, merged != existing?.siblings else { return false }
        record.siblings = merged
        putRecord(record, for: key)
        return true
    }
}
