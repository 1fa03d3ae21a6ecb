/// A node's side of anti-entropy (Dynamo §4.7): the hash tree over its
/// stored keys, kept in step with every store change, and whose turn it is.
struct AntiEntropyState: Hashable {
    private(set) var tree: MerkleTree
    private var turns = RoundRobin()

    init(partitions: Int) {
        tree = MerkleTree(partitions: partitions)
    }

    /// Sets (or with nil, removes) one key's digest.
    mutating func set(key: Key, partition: Int, digest: UInt64?) {
        tree.set(key: key, partition: partition, digest: digest)
    }

    /// One key's digest, nil when it is not stored.
    func digest(of key: Key, partition: Int) -> UInt64? {
        tree.digest(of: key, partition: partition)
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
