import KvorumTestKit
import Testing

@testable import KvorumCore

/// A store that counts the calls that read records or list every key, and
/// otherwise passes everything to a `MemoryStorage`.
private final class CountingStorage: Storage {
    let inner = MemoryStorage()
    private(set) var recordReads = 0

    func record(for key: Key) -> StoredRecord? {
        recordReads += 1
        return inner.record(for: key)
    }
    func setRecord(_ record: StoredRecord, encoded: [UInt8], for key: Key, at place: TreePlace) -> UInt64? {
        inner.setRecord(record, encoded: encoded, for: key, at: place)
    }
    func removeRecord(for key: Key) -> TreePlace? { inner.removeRecord(for: key) }
    func keys() -> [Key] {
        recordReads += inner.recordCount
        return inner.keys()
    }
    func scanRecords(
        prefix: Key, after: Key?, where include: (Key) -> Bool, _ visit: (Key, StoredRecord) -> Bool
    ) {
        inner.scanRecords(prefix: prefix, after: after, where: include) { key, record in
            recordReads += 1
            return visit(key, record)
        }
    }
    var recordCount: Int { inner.recordCount }
    func digest(of key: Key) -> UInt64? { inner.digest(of: key) }
    func digests(inPartition partition: Int) -> [KeyDigest] { inner.digests(inPartition: partition) }
    func partitionSummaries() -> [PartitionSummary] { inner.partitionSummaries() }
    func deletedKeys() -> [Key] { inner.deletedKeys() }
    func hints() -> [Hint] { inner.hints() }
    func setHint(_ hint: Hint) { inner.setHint(hint) }
    func removeHint(target: String, key: Key) { inner.removeHint(target: target, key: key) }
    func membership() -> [MemberEntry] { inner.membership() }
    func setMembership(_ entries: [MemberEntry]) { inner.setMembership(entries) }
    func joinContact() -> Address? { inner.joinContact() }
    func setJoinContact(_ contact: Address?) { inner.setJoinContact(contact) }
    func nextEpoch() -> UInt64 { inner.nextEpoch() }
}

/// A node starts from what the store keeps beside its records: the hash tree
/// from the partition summaries, the reaper from the deleted keys. It reads no
/// record, so a start costs the same whatever the store holds (issue 15).
struct NodeStartTests {
    @Test func aStartReadsNoRecordAndRestoresTheTreeAndTheTombstones() {
        let storage = CountingStorage()
        let config = NodeConfig(name: "a", address: "a:1")
        var expected = MerkleTree(partitions: config.partitionCount)
        var deleted: [Key] = []
        for index in 0..<2_000 {
            let key = Key("key-\(index)")
            let dot = Dot(actor: "a.1", counter: UInt64(index + 1))
            let version =
                index % 10 == 0
                ? Version(dot: dot, past: VersionVector(), payload: .tombstone)
                : Version(dot: dot, past: VersionVector(), value: "v\(index)")
            let place = TreePlace(key: key, siblings: SiblingSet([version]), partitionCount: config.partitionCount)
            storage.setRecord(StoredRecord(siblings: SiblingSet([version])), for: key, at: place)
            expected.replace(nil, with: place.digest, partition: place.partition)
            if index % 10 == 0 { deleted.append(key) }
        }
        let node = KvorumNode(config: config, storage: storage)
        #expect(storage.recordReads == 0)
        #expect(node.state.antiEntropy.tree == expected)
        #expect(node.state.antiEntropy.tree.keyCount == 2_000)
        #expect(node.state.reaper.deleted == deleted.sorted())
    }
}
