/// Where a stored key sits in the anti-entropy hash tree (Dynamo §4.7): its
/// partition of the ring and the digest of its record.
///
/// A store keeps the place with the record, and per partition a
/// `PartitionSummary` that always matches the stored records (the SQLite
/// store saves them when it closes and sums them from the records' digests
/// after a crash). A node therefore restarts with its tree without decoding
/// a single record, and keeps no per-key state in memory: a leaf comparison
/// asks the store for the digests of one partition
/// (`Storage.digests(inPartition:)`).
public struct TreePlace: Hashable, Sendable {
    public let partition: Int
    public let digest: UInt64

    public init(partition: Int, digest: UInt64) {
        self.partition = partition
        self.digest = digest
    }

    /// The place of `key` holding `siblings` on a ring of `partitionCount`
    /// partitions: a key's partition depends on its bytes alone.
    public init(key: Key, siblings: SiblingSet, partitionCount: Int) {
        self.init(key: key, encodedSiblings: WireCodec.encode(siblings), partitionCount: partitionCount)
    }

    /// The same place, from the siblings' encoding as a store keeps it
    /// (`WireCodec.encode(_: SiblingSet)`): a write encodes them once for
    /// its row and its digest.
    public init(key: Key, encodedSiblings: [UInt8], partitionCount: Int) {
        self.init(
            partition: Ring.partition(of: key, partitionCount: partitionCount),
            digest: Self.digest(key: key, encodedSiblings: encodedSiblings))
    }

    /// The digest of one stored key: FNV-1a over the key and its canonical
    /// sibling encoding (as a message carries them), mixed. Equal records
    /// have equal digests on every node.
    public static func digest(key: Key, siblings: SiblingSet) -> UInt64 {
        digest(key: key, encodedSiblings: WireCodec.encode(siblings))
    }

    /// `digest(key:siblings:)` from the store's encoding of the siblings,
    /// which is their encoding in a message after one version byte.
    static func digest(key: Key, encodedSiblings: [UInt8]) -> UInt64 {
        precondition(encodedSiblings.first == WireCodec.version, "not a store's encoding of siblings")
        // FNV-1a over the key's encoding (its length as a varint, then its
        // bytes, as `WireCodec.Writer.key` writes it), then the siblings'.
        var fnv = StableHash.FNV1a()
        var text = key.text
        text.withUTF8 { utf8 in
            WireCodec.varint(UInt64(utf8.count)) { fnv.add($0) }
            fnv.add(utf8)
        }
        encodedSiblings.withUnsafeBufferPointer { fnv.add($0.dropFirst()) }
        return StableHash.mix(fnv.value)
    }
}

/// What a store keeps for one partition of the anti-entropy tree: the XOR of
/// its keys' digests (the tree's leaf) and how many keys it holds.
public struct PartitionSummary: Hashable, Sendable {
    public let partition: Int
    public private(set) var hash: UInt64
    public private(set) var keys: Int

    public init(partition: Int, hash: UInt64 = 0, keys: Int = 0) {
        precondition(partition >= 0 && keys >= 0, "a partition summary cannot be negative")
        self.partition = partition
        self.hash = hash
        self.keys = keys
    }

    /// Whether no key is stored in the partition.
    public var isEmpty: Bool { keys == 0 }

    /// One key's digest changes from `old` to `new`; nil stands for "absent".
    public mutating func replace(_ old: UInt64?, with new: UInt64?) {
        hash ^= (old ?? 0) ^ (new ?? 0)
        keys += (new == nil ? 0 : 1) - (old == nil ? 0 : 1)
        precondition(keys >= 0, "partition \(partition) would hold a negative number of keys")
    }
}
