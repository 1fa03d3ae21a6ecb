/// The hash tree anti-entropy compares (Dynamo §4.7), kept incrementally.
///
/// Leaves are the ring's partitions: a leaf's hash is the XOR of the digests
/// of every key stored in that partition, where a key's digest hashes the key
/// and its canonical sibling encoding. A write changes one digest, so the tree
/// is updated in O(1) by XOR-ing the old digest out and the new one in.
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
    /// The digest of every stored key, by partition (non-empty partitions
    /// only): a leaf comparison reads its partition rather than every stored
    /// key, and a change XORs out the key's old digest without re-encoding
    /// the old record.
    private var digests: [Int: [Key: UInt64]] = [:]
    /// Levels below the root: the last one is the leaves.
    let depth: Int
    /// The restricted views, in the order the peers were first shared with.
    private var views: [SharedView] = []

    init(partitions: Int) {
        leaves = Array(repeating: 0, count: partitions)
        var depth = 1
        var span = Self.fanOut
        while span < partitions {
            span *= Self.fanOut
            depth += 1
        }
        self.depth = depth
    }

    /// The digest of one stored key.
    static func digest(key: Key, siblings: SiblingSet) -> UInt64 {
        var writer = WireCodec.Writer()
        writer.key(key)
        writer.siblings(siblings)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in writer.bytes {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        return StableHash.mix(h)
    }

    /// Sets a key's digest in its partition; nil stands for "absent".
    mutating func set(key: Key, partition: Int, digest new: UInt64?) {
        let old = digests[partition]?[key]
        let delta = (old ?? 0) ^ (new ?? 0)
        leaves[partition] ^= delta
        for view in views.indices where views[view].mask[partition] != 0 {
            for level in 1..<depth {
                views[view].levels[level - 1][partition / span(at: level)] ^= delta
            }
        }
        if let new {
            digests[partition, default: [:]][key] = new
        } else if old != nil {
            digests[partition]![key] = nil
            if digests[partition]!.isEmpty { digests[partition] = nil }
        }
    }

    /// The digest of a key in its partition, nil when the key is absent.
    func digest(of key: Key, partition: Int) -> UInt64? { digests[partition]?[key] }

    /// How many keys the tree holds.
    var keyCount: Int { digests.values.reduce(0) { $0 + $1.count } }

    /// The keys stored in a partition with their digests, in byte-wise key order.
    func digests(in partition: Int) -> [KeyDigest] {
        (digests[partition] ?? [:]).sorted { $0.key < $1.key }.map {
            KeyDigest(key: $0.key, digest: $0.value)
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
