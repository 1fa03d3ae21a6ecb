import KvorumTestKit
import Testing

@testable import KvorumCore

/// The side of an anti-entropy exchange that answers a peer's key digests
/// bounds its own reads by its key budget, whatever the peer sends.
struct AntiEntropyReceiverTests {
    @Test func keyDigestsOverTheBudgetAreComparedForTheFirstPartitionsOnly() {
        let storage = MemoryStorage()
        var config = NodeConfig(name: "a", address: "a:1")
        config.antiEntropyKeyBudget = 64
        let ours = (0..<10_000).map { Key("ours-\($0)") }
        for (index, key) in ours.enumerated() {
            let version = Version(dot: Dot(actor: "a.1", counter: 1), past: VersionVector(), value: "v\(index)")
            storage.setRecord(StoredRecord(siblings: SiblingSet([version])), for: key)
        }
        let node = KvorumNode(config: config, storage: storage)
        _ = node.handle(.start, now: 0)
        let theirs = (0..<1_000).map { KeyDigest(key: Key("theirs-\($0)"), digest: 1) }
        let message = PeerMessage(
            from: "b", viewDigest: 0, body: .aeKeys(partitions: Array(0..<config.partitionCount), digests: theirs))

        let before = storage.work
        let effects = node.handle(.peer(from: "b:1", message), now: 1)
        let rowsRead = (storage.work - before).rowsRead

        // 10,000 keys over 4,096 partitions is 2 a partition: 32 partitions fit 64 keys.
        let compared = 0..<32
        var sent: [Key] = []
        var fetched: [Key] = []
        for case .send(_, let reply) in effects {
            switch reply.body {
            case .aeRecords(let records): sent += records.map(\.key)
            case .aeFetch(let keys): fetched += keys
            default: break
            }
        }
        let inCompared = { compared.contains(Ring.partition(of: $0, partitionCount: config.partitionCount)) }
        #expect(sent.filter { !inCompared($0) }.count == 0, "records sent from partitions not compared")
        #expect(fetched.filter { !inCompared($0) }.count == 0, "records asked for from partitions not compared")
        #expect(sent.count == ours.filter(inCompared).count)
        #expect(fetched.count == theirs.map(\.key).filter(inCompared).count)
        #expect(!sent.isEmpty && !fetched.isEmpty)
        #expect(rowsRead < 200, "read \(rowsRead) rows for an exchange of 64 keys")
    }
}
