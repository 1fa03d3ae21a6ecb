extension KvorumNode {
    /// The anti-entropy hash tree (read-only here; `putRecord` keeps it in step).
    private var tree: MerkleTree { state.antiEntropy.tree }

    /// Arms the next anti-entropy round. The first one is staggered by a
    /// fraction of the interval taken from the node's name, so nodes that start
    /// together do not exchange in lockstep.
    func armAntiEntropy(first: Bool = false) {
        guard let interval = config.antiEntropyInterval else { return }
        let stagger = first ? Double(StableHash.hash(name) % 1000) / 1000 * interval : 0
        setTimerIfIdle(.antiEntropy, after: interval + stagger)
    }

    /// One round (Dynamo §4.7): send the next peer, in turn, the top level of
    /// the hash tree over the partitions both replicate. Equal trees end the
    /// exchange at once: one message per round when nothing differs.
    func onAntiEntropyTimer() {
        defer { armAntiEntropy() }
        let (name, detector) = (name, state.detector)
        guard state.membership.isUp(name),
            let peer = state.antiEntropy.nextPeer(
                among: view.upMembers.lazy.filter { $0 != name && !detector.isSuspected($0) })
        else { return }
        let shared = sharedPartitions(with: peer)
        guard shared.contains(where: { $0 != 0 }) else { return }
        observe(.antiEntropyRound(peer: peer))
        send(
            .aeTree(level: 1, entries: tree.hashes(level: 1, indices: 0..<tree.width(at: 1), sharedWith: peer)),
            to: peer)
    }

    /// The partitions whose replicas include both this node and `peer`, as a
    /// mask per partition: all ones where shared, zero elsewhere. The first
    /// call per peer under the current ring also sets up the tree's view for it.
    func sharedPartitions(with peer: String) -> [UInt64] {
        let (ring, name, n) = (ring, name, n)
        return state.antiEntropy.sharedPartitions(with: peer) {
            ring.replicatedByBoth(name, peer, n: n).map { $0 ? ~0 : 0 as UInt64 }
        }
    }

    /// Compares the peer's tree nodes with ours and answers one level down
    /// for those that differ, or with key digests at the leaves.
    func onTree(level: Int, _ entries: [TreeEntry], from peer: String, address: Address) {
        guard level >= 1, level <= tree.depth else { return }
        let shared = sharedPartitions(with: peer)
        let width = tree.width(at: level)
        let valid = entries.filter { $0.index >= 0 && $0.index < width }
        let ours = tree.hashes(level: level, indices: valid.lazy.map(\.index), sharedWith: peer)
        let differing = zip(valid, ours).filter { $0.hash != $1.hash }.map(\.0.index)
        guard !differing.isEmpty else { return }
        if level < tree.depth {
            let children = differing.flatMap { tree.children(level: level, index: $0) }
            send(
                .aeTree(level: level + 1, entries: tree.hashes(level: level + 1, indices: children, sharedWith: peer)),
                toAddress: address)
        } else {
            let partitions = state.antiEntropy.partitionsToCompare(
                differing.filter { shared[$0] != 0 }, keyBudget: config.antiEntropyKeyBudget)
            send(.aeKeys(partitions: partitions, digests: digests(in: partitions)), toAddress: address)
        }
    }

    /// The digests of our keys in the given partitions, in key order.
    func digests(in partitions: [Int]) -> [KeyDigest] {
        partitions.flatMap { storage.digests(inPartition: $0) }
    }

    /// Key-level comparison: send the peer our versions of keys it lacks or
    /// holds differently, and ask for its versions of keys we lack or hold
    /// differently. Both sides merge, so both converge. Only the partitions
    /// that fit our key budget are compared (`partitionsToAccept`); the
    /// peer's digests of the others are set aside.
    func onKeyDigests(partitions: [Int], _ theirs: [KeyDigest], address: Address) {
        let valid = partitions.filter { $0 >= 0 && $0 < config.partitionCount }
        let accepted = state.antiEntropy.partitionsToAccept(valid, keyBudget: config.antiEntropyKeyBudget)
        var theirs = theirs
        if accepted.count < valid.count {
            let ring = ring
            let compared = Set(accepted)
            theirs.removeAll { !compared.contains(ring.partition(of: $0.key)) }
        }
        let ours = digests(in: accepted)
        let theirDigest = Dictionary(theirs.map { ($0.key, $0.digest) }, uniquingKeysWith: { first, _ in first })
        let ourDigest = Dictionary(ours.map { ($0.key, $0.digest) }, uniquingKeysWith: { first, _ in first })
        let give = ours.filter { theirDigest[$0.key] != $0.digest }.map(\.key)
        let want = theirs.filter { ourDigest[$0.key] != $0.digest }.map(\.key)
        if !give.isEmpty || !want.isEmpty {
            observe(.antiEntropyKeysExchanged(sent: give.count, requested: want.count))
        }
        sendRecords(give, toAddress: address)
        if !want.isEmpty { send(.aeFetch(keys: want), toAddress: address) }
    }

    /// Sends our versions of `keys`, a bounded batch per message.
    func sendRecords(_ keys: [Key], toAddress address: Address) {
        let records = keys.compactMap { key in
            storage.record(for: key).map { KeyedSiblings(key: key, siblings: $0.siblings) }
        }
        var start = 0
        while start < records.count {
            let end = min(start + config.handoffBatchSize, records.count)
            send(.aeRecords(Array(records[start..<end])), toAddress: address)
            start = end
        }
    }
}
