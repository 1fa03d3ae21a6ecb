/// Reaping tombstones (docs/architecture.md, "Deletes").
///
/// A delete leaves a tombstone that supersedes what its context covered. It
/// must outlive every copy of what it deleted, or a replica that missed the
/// delete, a stand-in's hint, a read repair or an anti-entropy exchange would
/// bring the deleted value back. So the first replica of a key checks, every
/// `Reaping.interval`, what every member of the cluster holds of it, and
/// reaps it only when
/// - every member answered, and each holds exactly these tombstones or
///   nothing of the key (no member, stand-in or not, holds an older copy);
/// - every replica of the key holds them (not only stand-ins);
/// - a check at least `Reaping.grace` seconds after the first clean one is
///   clean too, so that a copy that was in flight at the first clean check
///   has arrived (and was superseded) or shows up in the later check. A key
///   is not checked in between: so reaping costs two rounds per key when
///   nothing goes wrong.
/// Then it removes its own record and tells each member holding a copy to
/// remove it if it is still the same. A member that is down or cut off holds
/// reaping back until it answers. A tombstone that one replica reaped while
/// another missed the `reap` comes back to the first through anti-entropy and
/// is reaped in a later round: a tombstone is never stranded (riak_kv#311).
extension KvorumNode {
    /// Notes a record's new state for the reaper, arming its timer when the
    /// node holds tombstones.
    func noteForReaper(_ key: Key, _ siblings: SiblingSet?) {
        let isDeleted = siblings?.isDeleted ?? false
        state.reaper.note(key, isDeleted: isDeleted)
        if isDeleted { armReaper() }
    }

    func armReaper() {
        guard !state.reaper.isEmpty else { return }
        setTimerIfIdle(.reap, after: config.reaping.interval)
    }

    /// Concludes the round still in flight (a member that has not answered
    /// makes every key of it unclean) and starts the next one.
    func onReapTimer() {
        if let unanswered = state.reaper.end() { conclude(unanswered) }
        defer { armReaper() }
        guard state.membership.isUp(name), !ring.isEmpty, state.membership.joinContact == nil else { return }
        let (ring, coordinator, reaper, name, n) = (ring, state.coordinator, state.reaper, name, n)
        let (now, grace) = (now, config.reaping.grace)
        let keys = state.reaper.nextBatch(limit: config.reaping.batchSize) { key in
            ring.replicas(for: key, n: n).first == name && !coordinator.isWriting(key)
                && !reaper.isWaiting(key, at: now, grace: grace)
        }
        guard !keys.isEmpty else { return }
        var digests: [Key: UInt64] = [:]
        for key in keys { digests[key] = storedDigest(of: key) }
        let peers = view.upMembers.filter { $0 != name }
        let round = Reaper.Round(id: newOp(), keys: keys, digests: digests, awaiting: Set(peers))
        state.reaper.begin(round)
        for peer in peers { send(.reapCheck(round: round.id, keys: keys), to: peer) }
        if round.isComplete, let done = state.reaper.end() { conclude(done) }
    }

    /// A leader's check: what this node holds of each key.
    func onReapCheck(_ round: UInt64, keys: [Key], from address: Address) {
        let held = keys.compactMap { key in storedDigest(of: key).map { KeyDigest(key: key, digest: $0) } }
        send(.reapStatus(round: round, held: held), toAddress: address)
    }

    func onReapStatus(_ round: UInt64, held: [KeyDigest], from peer: String) {
        guard let done = state.reaper.answer(round, from: peer, held: held) else { return }
        conclude(done)
    }

    /// Reaps the keys of a round that have been clean for the grace period,
    /// and sends the tombstones of the others to the members that answered
    /// without them (a copy they hold is superseded, or merged with the
    /// tombstones if it is concurrent), so the next check can be clean
    /// without waiting for a hint or anti-entropy.
    private func conclude(_ round: Reaper.Round) {
        var reaps: [String: [KeyDigest]] = [:]
        for key in round.keys {
            let replicas = ring.replicas(for: key, n: n)
            guard state.reaper.isDeleted(key), storedDigest(of: key) == round.digests[key],
                !state.coordinator.isWriting(key)
            else {
                state.reaper.unclean(key)
                continue
            }
            guard round.isClean(key, replicas: replicas, leader: name) else {
                state.reaper.unclean(key)
                let stale = round.stale(key, replicas: replicas)
                if !stale.isEmpty, let record = storage.record(for: key) {
                    for peer in stale { send(.repair(key: key, siblings: record.siblings), to: peer) }
                }
                continue
            }
            guard state.reaper.clean(key, at: now, grace: config.reaping.grace) else { continue }
            for holder in round.holders(of: key) {
                reaps[holder, default: []].append(KeyDigest(key: key, digest: round.digests[key]!))
            }
            deleteRecord(for: key)
        }
        for holder in reaps.keys.sorted(by: byteOrder) { send(.reap(reaps[holder]!), to: holder) }
    }

    /// The leader reaped these keys: remove each record that still holds
    /// exactly the tombstones it checked (anything written since stays).
    func onReap(_ records: [KeyDigest]) {
        for entry in records {
            guard state.reaper.isDeleted(entry.key), storedDigest(of: entry.key) == entry.digest,
                !state.coordinator.isWriting(entry.key)
            else { continue }
            deleteRecord(for: entry.key)
        }
    }
}
