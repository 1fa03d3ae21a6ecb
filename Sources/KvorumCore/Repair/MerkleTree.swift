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
struct MerkleTree {
    static let fanOut = 16

    private(set) var leaves: [UInt64]
    /// The keys stored in each partition (non-empty partitions only), so a
    /// leaf comparison reads its partition rather than every stored key.
    private var members: [Int: Set<String>] = [:]
    /// Levels below the root: the last one is the leaves.
    let depth: Int

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
    static func digest(key: String, siblings: SiblingSet) -> UInt64 {
        var writer = WireCodec.Writer()
        writer.string(key)
        writer.siblings(siblings)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in writer.bytes {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        return StableHash.mix(h)
    }

    /// Replaces a key's digest in its partition; nil stands for "absent".
    mutating func update(key: String, partition: Int, old: UInt64?, new: UInt64?) {
        leaves[partition] ^= (old ?? 0) ^ (new ?? 0)
        if new == nil {
            members[partition]?.remove(key)
            if members[partition]?.isEmpty == true { members[partition] = nil }
        } else if old == nil {
            members[partition, default: []].insert(key)
        }
    }

    /// The keys stored in a partition, in byte-wise order.
    func keys(in partition: Int) -> [String] {
        (members[partition] ?? []).sorted(by: byteOrder)
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

    /// The hash of node `index` at `level`, over the partitions in `shared`.
    func hash(level: Int, index: Int, shared: [Bool]) -> UInt64 {
        let span = span(at: level)
        var h: UInt64 = 0
        for partition in (index * span)..<min((index + 1) * span, leaves.count) where shared[partition] {
            h ^= leaves[partition]
        }
        return h
    }

    /// The children of node `index` at `level` (a node one level down).
    func children(level: Int, index: Int) -> Range<Int> {
        let first = index * Self.fanOut
        return first..<min(first + Self.fanOut, width(at: level + 1))
    }
}
