extension KvorumNode {
    // MARK: - Key listing (a coverage query)

    /// Starts a listing: every partition of the ring is asked of one of its
    /// replicas (see `ListOperation`).
    func startListing(client: RequestID, query: KeyQuery) {
        let id = newOp()
        state.coordinator[list: id] = ListOperation(
            client: client, query: query, deadline: now + config.operationDeadline)
        askForListing(id, partitions: Array(0..<ring.partitionCount))
    }

    /// Asks for `partitions`, each of its first replica that is neither
    /// suspected nor given up on by this listing, this node first: a node
    /// gets one message for all its partitions, and this node answers its
    /// own share without one. Ends the listing when no node is left to wait
    /// for, or with an error when some partition has no replica left to ask.
    private func askForListing(_ id: UInt64, partitions: [Int]) {
        guard var op = state.coordinator[list: id] else { return }
        op.round += 1
        var chosen: [String: [Int]] = [:]
        for partition in partitions {
            let replicas = ring.replicas(forPartition: partition, n: n).filter {
                !isSuspected($0) && !op.failed.contains($0)
            }
            guard let node = replicas.contains(name) ? name : replicas.first else {
                failListing(
                    id,
                    "key listing incomplete: no replica of partition \(partition) is left to ask ("
                        + ring.replicas(forPartition: partition, n: n).joined(separator: ", ")
                        + " are suspected or did not answer)")
                return
            }
            chosen[node, default: []].append(partition)
        }
        for node in chosen.keys.sorted(by: byteOrder) where node != name {
            op.pending[node] = chosen[node]
            send(.listKeys(op: id, round: op.round, partitions: chosen[node]!, query: op.query), to: node)
        }
        if let own = chosen[name] {
            let answer = liveKeys(in: own, op.query)
            op.merge.add(answer.keys, full: answer.full)
        }
        state.coordinator[list: id] = op
        if op.pending.isEmpty {
            finishListing(id)
        } else {
            setTimer(.operation(id), after: config.requestTimeout)
        }
    }

    func onListingReply(_ id: UInt64, round: Int, from peer: String, keys: [Key], full: Bool) {
        guard state.coordinator[list: id]?.record(keys, full: full, from: peer, round: round) == true else { return }
        if state.coordinator[list: id]!.pending.isEmpty {
            finishListing(id)
        }
    }

    /// The asked nodes that have not answered are suspected and their
    /// partitions asked of the next replicas; past the deadline the listing
    /// fails rather than answer without them.
    func onListingTimeout(_ id: UInt64) {
        guard var op = state.coordinator[list: id] else { return }
        let silent = op.pending.keys.sorted(by: byteOrder)
        let orphans = silent.flatMap { op.pending[$0]! }.sorted()
        for peer in silent {
            suspect(peer)
            op.failed.insert(peer)
        }
        op.pending = [:]
        state.coordinator[list: id] = op
        guard now < op.deadline else {
            failListing(id, "key listing timed out waiting for \(silent.joined(separator: ", "))")
            return
        }
        askForListing(id, partitions: orphans)
    }

    private func finishListing(_ id: UInt64) {
        guard let op = state.coordinator[list: id] else { return }
        state.coordinator[list: id] = nil
        cancelTimer(.operation(id))
        reply(op.client, .keyPage(op.merge.page))
    }

    private func failListing(_ id: UInt64, _ reason: String) {
        guard let op = state.coordinator[list: id] else { return }
        state.coordinator[list: id] = nil
        cancelTimer(.operation(id))
        reply(op.client, .failed(reason, .unavailable))
    }

    /// This node's keys in `partitions` that `query` admits and that have a
    /// live version (a key whose versions are all tombstones is deleted), at
    /// most `query.limit` of them in byte order; `full` when the limit
    /// stopped the scan. Partitions outside the ring are ignored.
    func liveKeys(in partitions: [Int], _ query: KeyQuery) -> (keys: [Key], full: Bool) {
        let ring = self.ring
        var asked = [Bool](repeating: false, count: ring.partitionCount)
        for partition in partitions where asked.indices.contains(partition) { asked[partition] = true }
        let limit = min(max(query.limit, KeyQuery.limits.lowerBound), KeyQuery.limits.upperBound)
        var keys: [Key] = []
        storage.scanRecords(prefix: query.prefix, after: query.after, where: { asked[ring.partition(of: $0)] }) {
            key, record in
            if !record.siblings.isDeleted { keys.append(key) }
            return keys.count < limit
        }
        return (keys, keys.count == limit)
    }
}
