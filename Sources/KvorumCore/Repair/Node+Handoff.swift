extension KvorumNode {
    /// Records that `target` must receive this node's copy of `key` (Dynamo
    /// §4.6). Renewing a hint gives it a new sequence number, so the
    /// acknowledgement of an older delivery does not clear it.
    func addHint(target: String, key: Key) {
        guard target != name,
            state.hints.add(target: target, key: key, limit: config.maxHints, storage: storage)
        else { return }
        observe(.hintStored(target: target))
        armHandoff()
    }

    func armHandoff() {
        guard !state.hints.isEmpty else { return }
        setTimerIfIdle(.handoff, after: config.handoffInterval)
    }

    func onHandoffTimer() {
        for target in state.hints.targets { sendHandoff(to: target) }
        armHandoff()
    }

    /// Sends one batch of hinted records to `target`. A batch still waiting
    /// for its acknowledgement is superseded: its late ack is ignored.
    ///
    /// A handoff starts (an observation) with a batch that follows no
    /// batch in flight for the target, unless it `continues` one that was
    /// just acknowledged; it finishes when an acknowledgement leaves no
    /// hint pending for the target.
    func sendHandoff(to target: String, continues: Bool = false) {
        let starts = !continues && !state.hints.hasBatchInFlight(for: target)
        guard view.address(of: target) != nil,
            let (batch, records) = state.hints.collectBatch(
                for: target, limit: config.handoffBatchSize, storage: storage)
        else { return }
        if starts { observe(.handoffStarted(target: target, keys: state.hints.count(for: target))) }
        let id = newOp()
        state.hints.dispatched(batch, id: id)
        send(.handoff(batch: id, records: records), to: target)
    }

    /// The target has the records: the hints are done, and copies this node
    /// no longer needs are dropped. More hints for the target go out at once.
    func onHandoffAck(_ batch: UInt64) {
        guard let (target, cleared) = state.hints.acknowledge(batch, storage: storage) else { return }
        for key in cleared { dropIfNotResponsible(key) }
        if !cleared.isEmpty { observe(.hintsHandedOff(target: target, keys: cleared.count)) }
        if state.hints.hasPending(for: target) {
            sendHandoff(to: target, continues: true)
        } else {
            observe(.handoffFinished(target: target))
        }
    }

    /// Drops a record this node holds for no one: it is not a replica of the
    /// key and owes no hint for it.
    func dropIfNotResponsible(_ key: Key) {
        guard !ring.isEmpty else { return }
        if ring.isReplica(name, of: key, n: n) && state.membership.isUp(name) { return }
        if state.hints.holds(key) { return }
        if state.coordinator.isWriting(key) { return }
        deleteRecord(for: key)
    }
}
