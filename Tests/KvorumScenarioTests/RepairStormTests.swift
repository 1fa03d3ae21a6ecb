import KvorumCore
import KvorumSimulation
import KvorumTestKit
import Testing

/// The repair storm of bench/results/2026-12-02-repair-storm.md, in the
/// simulator: a replica paused while writes go on comes back, and the repair
/// that follows must not hold any node so long that clients wait or peers
/// give up on it. Only a work model that gives the store's reads a cost
/// (`WorkModel.diskBound`) can show this; under the free model every event
/// takes no time.
@Suite("Repair after a pause")
struct RepairStormTests {
    struct Outcome {
        /// The longest event any node handled.
        var longestEvent: Double
        /// The longest wait of a client read after the pause, in seconds;
        /// infinity when one went unanswered.
        var slowestRead: Double
        /// Writes made during the pause that did not succeed.
        var failedWrites: Int
        /// Keys node03 holds in another version than node01 at the end.
        var unrepaired: Int
    }

    /// Three replicas of 20,000 keys on a ring of 256 partitions (78 keys a
    /// partition, as 4,096 partitions hold at 320,000 keys); node03 is
    /// paused for 15 s while 1,500 writes to random keys go to node01 and
    /// node02, which keep 100 hints at most (so anti-entropy does most of the
    /// repair); then client reads go to each node in turn for a minute, and
    /// the cluster runs two more minutes.
    func storm(keyBudget: Int) -> Outcome {
        let keyCount = 20_000
        let sim = Simulation(seed: 7, network: .tcpLike())
        let names = ["node01", "node02", "node03"]
        for name in names {
            sim.addNode(name: name) { config in
                config = NodeConfig(name: config.name, address: config.address, profile: .server)
                config.antiEntropyKeyBudget = keyBudget
                config.partitionCount = 256
                config.maxHints = 100
            }
        }
        #expect(sim.formCluster(names, via: "node01"))
        let keys = (0..<keyCount).map { Key("key-\($0)") }
        let loader = Dot(actor: "loader.1", counter: 1)
        for name in names {
            let storage = sim.storage(of: name)
            for (i, key) in keys.enumerated() {
                let version = Version(dot: loader, past: VersionVector(), value: "v\(i)")
                storage.setRecord(StoredRecord(siblings: SiblingSet([version])), for: key, partitionCount: 256)
            }
            sim.restart(name)
        }
        sim.workModel = .diskBound
        sim.run(for: 20)

        sim.pause("node03", for: 15)
        var writes: [(node: String, id: RequestID)] = []
        var random = SplitMix64(seed: 11)
        let pauseEnd = sim.now + 15
        while sim.now < pauseEnd {
            for node in ["node01", "node02"] where writes.count < 1500 {
                let key = keys[Int(random.next() % UInt64(keyCount))]
                let body: JSON = ["key": .string(key.description), "value": "new", "quorum": 2]
                writes.append((node, sim.send(ClientRequest(type: "PUT", body: body), to: node)))
            }
            sim.run(for: 0.01)
        }

        var slowestRead = 0.0
        let readsEnd = sim.now + 60
        var turn = 0
        while sim.now < readsEnd {
            let node = names[turn % names.count]
            turn += 1
            let key = keys[Int(random.next() % UInt64(keyCount))]
            let start = sim.now
            let id = sim.send(
                ClientRequest(type: "GET", body: ["key": .string(key.description), "quorum": 2]), to: node)
            if sim.runUntilReply(to: id, at: node, maxEvents: 1_000_000, timeLimit: 5)?.type == "GET_RESP" {
                slowestRead = max(slowestRead, sim.now - start)
            } else {
                slowestRead = .infinity
            }
            sim.run(for: 0.05)
        }
        sim.run(for: 120)
        let failedWrites = writes.filter { sim.reply(to: $0.id, at: $0.node)?.type != "PUT_RESP" }.count
        let (first, third) = (sim.storage(of: "node01"), sim.storage(of: "node03"))
        let unrepaired = keys.filter { first.record(for: $0)?.siblings != third.record(for: $0)?.siblings }.count
        return Outcome(
            longestEvent: sim.longestEvent?.seconds ?? 0, slowestRead: slowestRead, failedWrites: failedWrites,
            unrepaired: unrepaired)
    }

    /// With the default key budget no event takes as long as a peer waits
    /// for a reply (0.5 s), no read waits as long as a client would (1 s),
    /// and node03 still converges.
    @Test func theRepairKeepsEveryEventShort() {
        let outcome = storm(keyBudget: NodeConfig(name: "n", address: "a").antiEntropyKeyBudget)
        print("repair after a pause, default budget: \(outcome)")
        #expect(outcome.longestEvent < 0.5)
        #expect(outcome.slowestRead < 1)
        #expect(outcome.failedWrites == 0)
        #expect(outcome.unrepaired == 0)
    }

    /// Without the budget, the simulator shows the storm: one exchange lists
    /// every partition's digests on both sides, seconds of reads in one event,
    /// and reads wait behind it.
    @Test func withoutAKeyBudgetTheExchangeStallsTheNodes() {
        let outcome = storm(keyBudget: .max)
        print("repair after a pause, no budget: \(outcome)")
        #expect(outcome.longestEvent > 1.5)
        #expect(outcome.slowestRead > 1.5)
        #expect(outcome.unrepaired == 0)
    }
}
