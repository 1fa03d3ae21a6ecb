extension KvorumNode {
    /// Records that `target` must receive this node's copy of `key` (Dynamo
    /// §4.6). Renewing a hint gives it a new sequence number, so the
    /// acknowledgement of an older delivery does not clear it.
    func addHint(target: String, key: String) {
        guard target != name else { return }
        if hints[target]?[key] == nil && pendingHintCount >= config.maxHints { return }
        hintSequence += 1
        hints[target, default: [:]][key] = hintSequence
        storage.setHint(Hint(target: target, key: key, sequence: hintSequence))
        armHandoff()
    }

    func armHandoff() {
        guard !armedTimers.contains("handoff"), !hints.isEmpty else { return }
        setTimer("handoff", after: config.handoffInterval)
    }

    func onHandoffTimer() {
        for target in hints.keys.sorted(by: byteOrder) { sendHandoff(to: target) }
        armHandoff()
    }

    /// Sends one batch of hinted records to `target`. A batch still waiting
    /// for its acknowledgement is superseded: its late ack is ignored.
    func sendHandoff(to target: String) {
        guard let byKey = hints[target], view.address(of: target) != nil else { return }
        for (batch, flight) in handoffsInFlight where flight.target == target { handoffsInFlight[batch] = nil }
        var records: [KeyedSiblings] = []
        var sent: [(String, UInt64)] = []
        for key in byKey.keys.sorted(by: byteOrder) {
            guard records.count < config.handoffBatchSize else { break }
            guard let record = storage.record(for: key), !record.siblings.isEmpty else {
                removeHint(target: target, key: key)
                continue
            }
            records.append(KeyedSiblings(key: key, siblings: record.siblings))
            sent.append((key, byKey[key]!))
        }
        guard !records.isEmpty else { return }
        let batch = newOp()
        handoffsInFlight[batch] = (target, sent)
        send(.handoff(batch: batch, records: records), to: target)
    }

    /// The target has the records: the hints are done, and copies this node
    /// no longer needs are dropped. More hints for the target go out at once.
    func onHandoffAck(_ batch: UInt64) {
        guard let flight = handoffsInFlight.removeValue(forKey: batch) else { return }
        for (key, sequence) in flight.keys where hints[flight.target]?[key] == sequence {
            removeHint(target: flight.target, key: key)
            dropIfNotResponsible(key)
        }
        if hints[flight.target] != nil { sendHandoff(to: flight.target) }
    }

    func removeHint(target: String, key: String) {
        hints[target]?[key] = nil
        if hints[target]?.isEmpty == true { hints[target] = nil }
        storage.removeHint(target: target, key: key)
    }

    /// Drops a record this node holds for no one: it is not a replica of the
    /// key and owes no hint for it.
    func dropIfNotResponsible(_ key: String) {
        guard !ring.isEmpty else { return }
        if ring.replicas(for: key, n: n).contains(name) && view.entries[name]?.status == .up { return }
        if hints.values.contains(where: { $0[key] != nil }) { return }
        if writes.values.contains(where: { $0.key == key }) { return }
        deleteRecord(for: key)
    }
}
