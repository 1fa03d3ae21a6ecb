/// A node's side of anti-entropy (Dynamo §4.7): the hash tree over its
/// stored keys, kept in step with every store change, and whose turn it is.
struct AntiEntropyState: Hashable {
    private(set) var tree: MerkleTree
    private var turns = RoundRobin()
    /// Where the next exchange over budget starts choosing partitions.
    private var nextPartition = 0

    init(partitions: Int, restoring summaries: [PartitionSummary] = []) {
        tree = MerkleTree(partitions: partitions, restoring: summaries)
    }

    /// One key of `partition` changes digest from `old` to `new`; nil stands
    /// for "absent".
    mutating func replace(_ old: UInt64?, with new: UInt64?, partition: Int) {
        tree.replace(old, with: new, partition: partition)
    }

    /// The ring changed: forget which partitions are shared with whom.
    mutating func forgetSharing() { tree.forgetSharing() }

    /// The partitions shared with `peer` as a mask, computed once per ring.
    mutating func sharedPartitions(with peer: String, compute: () -> [UInt64]) -> [UInt64] {
        if let cached = tree.sharedMask(with: peer) { return cached }
        let shared = compute()
        tree.share(with: peer, mask: shared)
        return shared
    }

    /// Of the differing `partitions` an exchange reached, those whose keys it
    /// compares: all of them while their keys fit `keyBudget`, estimated at
    /// the tree's average per partition; otherwise as many as fit (at least
    /// one), taken in turn from where the last such choice stopped, so every
    /// partition gets its turn over later rounds. Comparing a partition reads
    /// every key of it from the store, on the node's own thread.
    mutating func partitionsToCompare(_ partitions: [Int], keyBudget: Int) -> [Int] {
        let fitting = partitionsFitting(keyBudget: keyBudget)
        guard partitions.count > fitting else { return partitions }
        let ordered = partitions.sorted()
        let start = ordered.firstIndex { $0 >= nextPartition } ?? 0
        let chosen = (0..<fitting).map { ordered[(start + $0) % ordered.count] }
        nextPartition = chosen[fitting - 1] + 1
        return chosen.sorted()
    }

    /// Of the `partitions` a peer's key digests cover, those this node
    /// compares: the first that fit `keyBudget` at its own average keys per
    /// partition (at least one). A peer choosing its partitions with the
    /// same budget sends no more; this bounds the reads of one that does
    /// (another version, another setting). The rest still differ at the
    /// peer's next rounds.
    func partitionsToAccept(_ partitions: [Int], keyBudget: Int) -> [Int] {
        Array(partitions.prefix(partitionsFitting(keyBudget: keyBudget)))
    }

    /// How many partitions' keys fit `keyBudget`, at the tree's average keys
    /// per partition; at least one.
    private func partitionsFitting(keyBudget: Int) -> Int {
        precondition(keyBudget > 0, "an exchange compares at least one key")
        let perPartition = max(1, tree.keyCount / max(1, tree.leaves.count))
        return max(1, keyBudget / perPartition)
    }

    /// The peer whose turn it is.
    mutating func nextPeer<Peers: Collection<String>>(among peers: Peers) -> String? { turns.next(among: peers) }
}
