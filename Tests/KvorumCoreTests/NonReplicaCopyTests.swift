import KvorumTestKit
import Testing

@testable import KvorumCore

/// A node sent records of a key it does not replicate (by a peer whose view
/// of the ring is older) keeps them only until the key's replicas have them.
struct NonReplicaCopyTests {
    /// Campaign seed 4589: an anti-entropy exchange asked a peer for a key's
    /// records; the answer arrived after a JOIN had moved the key away, and
    /// the copy, stored but owed to no one, outlived the key's delete at its
    /// replicas (a resurrection when the tombstone is reaped).
    @Test func lateAntiEntropyRecordsArePassedOnThenDropped() throws {
        let storage = MemoryStorage()
        let names = ["a", "b", "c", "d"]
        storage.setMembership(names.map { MemberEntry(name: $0, address: "\($0):1", status: .up, version: 1) })
        let node = KvorumNode(config: NodeConfig(name: "a", address: "a:1"), storage: storage)
        _ = node.handle(.start, now: 0)
        let ring = Ring(members: names, partitionCount: NodeConfig.defaultPartitionCount)
        let key = try #require((0..<100).map { Key("k\($0)") }.first { !ring.isReplica("a", of: $0, n: 3) })
        let replicas = ring.replicas(for: key, n: 3)
        let version = Version(dot: Dot(actor: "b.1", counter: 1), past: VersionVector(), value: "late")
        let records = PeerMessage(
            from: "b", viewDigest: 0, body: .aeRecords([KeyedSiblings(key: key, siblings: SiblingSet([version]))]))

        _ = node.handle(.peer(from: "b:1", records), now: 1)
        #expect(storage.record(for: key) != nil)
        #expect(Set(storage.hints().filter { $0.key == key }.map(\.target)) == Set(replicas))

        let sent = node.handle(.timer(.handoff), now: 2)
        var batches: [(address: Address, batch: UInt64)] = []
        for case .send(let address, let message) in sent {
            if case .handoff(let batch, let handed) = message.body, handed.map(\.key) == [key] {
                batches.append((address, batch))
            }
        }
        #expect(Set(batches.map(\.address)) == Set(replicas.map { "\($0):1" }))
        for (address, batch) in batches {
            let ack = PeerMessage(from: String(address.prefix(1)), viewDigest: 0, body: .handoffAck(batch: batch))
            _ = node.handle(.peer(from: address, ack), now: 3)
        }
        #expect(storage.record(for: key) == nil, "the copy is dropped once every replica has it")
    }

    /// Campaign seed 4431 once the TCP-like network kept each link in order: a node
    /// restarted with an old view coordinated a read as a replica, learnt of
    /// a JOIN that moved the key away, and then read-repaired its own copy
    /// from a late reply, stranding it there.
    @Test func aReadFinishedUnderANewRingPassesItsRepairedCopyOn() throws {
        let storage = MemoryStorage()
        let entries = { (names: [String]) in
            names.map { MemberEntry(name: $0, address: "\($0):1", status: .up, version: 1) }
        }
        storage.setMembership(entries(["a", "b", "c"]))
        let node = KvorumNode(config: NodeConfig(name: "a", address: "a:1"), storage: storage)
        _ = node.handle(.start, now: 0)
        let grown = Ring(members: ["a", "b", "c", "d"], partitionCount: NodeConfig.defaultPartitionCount)
        let key = try #require((0..<100).map { Key("k\($0)") }.first { !grown.isReplica("a", of: $0, n: 3) })

        let asked = node.handle(.command(1, .get(key: key, quorum: 1)), now: 1)
        let reads = asked.compactMap { effect -> (Address, UInt64)? in
            guard case .send(let address, let message) = effect, case .read(let op, _) = message.body else {
                return nil
            }
            return (address, op)
        }
        #expect(reads.count == 2, "a read at quorum 1 asks the two other replicas")
        let view = PeerMessage(from: "b", viewDigest: 0, body: .view(entries(["a", "b", "c", "d"])))
        _ = node.handle(.peer(from: "b:1", view), now: 2)
        #expect(!node.ring.isReplica("a", of: key, n: 3))

        let version = Version(dot: Dot(actor: "b.1", counter: 1), past: VersionVector(), value: "late")
        for (address, op) in reads {
            let reply = PeerMessage(
                from: String(address.prefix(1)), viewDigest: 0,
                body: .readReply(op: op, siblings: SiblingSet([version])))
            _ = node.handle(.peer(from: address, reply), now: 3)
        }
        #expect(storage.record(for: key)?.siblings.values == ["late"], "the coordinator repaired its own copy")
        #expect(Set(storage.hints().filter { $0.key == key }.map(\.target)) == Set(grown.replicas(for: key, n: 3)))
    }
}
