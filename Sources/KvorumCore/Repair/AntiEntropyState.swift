/// A node's side of anti-entropy (Dynamo §4.7): the hash tree over its
/// stored keys, kept in step with every store change, and whose turn it is.
struct AntiEntropyState: Hashable {
    private(set) var tree: MerkleTree
    private var turns = RoundRobin()

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

    /// The peer whose turn it is.
    mutating func nextPeer(among peers: [String]) -> String? { turns.next(among: peers) }
}
