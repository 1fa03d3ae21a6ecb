/// The hash tree anti-entropy compares (Dynamo §4.7), kept incrementally.
///
/// Leaves are the ring's partitions: a leaf's hash is the XOR of the digests
/// of every key stored in that partition, where a key's digest hashes the key
/// and its canonical sibling encoding (`TreePlace`). A write changes one
/// digest, so the tree is updated in O(1) by XOR-ing the old digest out and
/// the new one in. The tree holds no per-key state: the store keeps each
/// key's digest and every leaf (`PartitionSummary`), from which a restarted
/// node restores the tree without reading a record.
/// Interior nodes (fan-out 16) are the XOR of the leaves they cover, restricted
/// to the partitions both sides of an exchange replicate, so two replicas
/// compare only what they share. XOR folding makes a difference visible at
/// every level above it; two differences cancelling out would need two 64-bit
/// digest deltas to be equal.
///
/// For each peer it is told about (`share(with:mask:)`), the tree also keeps
/// that peer's restricted interior hashes, XOR-ing every leaf change into them,
/// so reading an interior node costs O(1) rather than a pass over its leaves.
struct MerkleTree: Hashable {
    static let fanOut = 16

    /// The interior hashes of the tree restricted to the partitions shared with one peer.
    private struct SharedView: Hashable {
        let peer: String
        /// All ones for each shared partition, zero for the others.
        let mask: [UInt64]
        /// The hashes of the interior levels: `levels[l - 1]` holds level `l`,
        /// for `l` in `1..<depth`.
        var levels: [[UInt64]]
    }

    private(set) var leaves: [UInt64]
    /// How many keys the tree covers.
    private(set) var keyCount = 0
    /// Levels below the root: the last one is the leaves.
    let depth: Int
    /// The restricted views, in the order the peers were first shared with.
    private var views: [SharedView] = []

    /// A tree over `partitions` partitions, with the leaves of `summaries`
    /// (empty partitions need none).
    init(partitions: Int, restoring summaries: [PartitionSummary] = []) {
        leaves = Array(repeating: 0, count: partitions)
        var depth = 1
        var span = Self.fanOut
        while span < partitions {
            span *= Self.fanOut
            depth += 1
        }
        self.depth = depth
        for summary in summaries {
            precondition(summary.partition < partitions, "partition \(summary.partition) is outside the ring")
            leaves[summary.partition] = summary.hash
            keyCount += summary.keys
        }
    }

    /// One key of `partition` changes digest from `old` to `new`; nil stands
    /// for "absent".
    mutating func replace(_ old: UInt64?, with new: UInt64?, partition: Int) {
        let delta = (old ?? 0) ^ (new ?? 0)
        keyCount += (new == nil ? 0 : 1) - (old == nil ? 0 : 1)
        guard delta != 0 else { return }
        leaves[partition] ^= delta
        for view in views.indices where views[view].mask[partition] != 0 {
            for level in 1..<depth {
                views[view].levels[level - 1][partition / span(at: level)] ^= delta
            }
        }
    }

    /// How many partitions one node at `level` covers (level `depth` = 1).
    func span(at level: Int) -> Int {
        var span = 1
        for _ in level..<depth { span *= Self.fanOut }
        return span
    }

    /// Number of nodes at `level`.
    func width(at level: Int) -> Int {
        let span = span(at: level)
        return (leaves.count + span - 1) / span
    }

    /// The partition mask shared with `peer`, if `share(with:mask:)` gave one
    /// since the last `forgetSharing()`.
    func sharedMask(with peer: String) -> [UInt64]? {
        views.first { $0.peer == peer }?.mask
    }

    /// Starts keeping the interior hashes restricted to the partitions shared
    /// with `peer`, computed once here and then kept up to date by `update`.
    /// - Parameter mask: per partition, all ones where shared, zero elsewhere.
    mutating func share(with peer: String, mask: [UInt64]) {
        precondition(mask.count == leaves.count, "a mask must cover every partition")
        guard sharedMask(with: peer) == nil else { return }
        let levels = (1..<depth).map { level in
            let span = span(at: level)
            var hashes = [UInt64](repeating: 0, count: width(at: level))
            for partition in leaves.indices {
                hashes[partition / span] ^= leaves[partition] & mask[partition]
            }
            return hashes
        }
        views.append(SharedView(peer: peer, mask: mask, levels: levels))
    }

    /// Drops every restricted view (the ring changed, so did what is shared).
    mutating func forgetSharing() {
        views = []
    }

    /// The hashes of nodes `indices` at `level`, over the partitions shared
    /// with `peer`, which `share(with:mask:)` must have been given.
    func hashes(level: Int, indices: some Sequence<Int>, sharedWith peer: String) -> [TreeEntry] {
        guard let view = views.first(where: { $0.peer == peer }) else {
            preconditionFailure("no partitions shared with \(peer) yet")
        }
        if level < depth {
            let hashes = view.levels[level - 1]
            return indices.map { TreeEntry(index: $0, hash: hashes[$0]) }
        }
        return indices.map { TreeEntry(index: $0, hash: leaves[$0] & view.mask[$0]) }
    }

    /// The children of node `index` at `level` (a node one level down).
    func children(level: Int, index: Int) -> Range<Int> {
        let first = index * Self.fanOut
        return first..<min(first + Self.fanOut, width(at: level + 1))
    }
}
