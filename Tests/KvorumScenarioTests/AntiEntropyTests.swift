import KvorumCore
import KvorumSimulation
import KvorumTestKit
import Testing

/// Merkle-tree anti-entropy (Dynamo §4.7): replicas converge even when every
/// hint is lost, and an exchange costs in proportion to the difference.
@Suite("Anti-entropy")
struct AntiEntropyTests {
    /// Shows every message a node sends to `watch` (one closure for every
    /// node of a simulation).
    final class SendWatcher: SimulatedNode {
        let node: KvorumNode
        let watch: (PeerMessage) -> Void

        init(_ node: KvorumNode, watch: @escaping (PeerMessage) -> Void) {
            self.node = node
            self.watch = watch
        }

        func handle(_ event: Event, now: Double) -> [Effect] {
            let effects = node.handle(event, now: now)
            for case .send(_, let message) in effects { watch(message) }
            return effects
        }
    }

    /// Three replicas of 10,000 keys where node02 holds the first
    /// `differing` in a newer version; only node01 starts exchanges, every
    /// `interval` seconds, and no view checks run. Returns the keys.
    private func threeReplicas(
        _ sim: Simulation, differing: Int, interval: Double, configure: (inout NodeConfig) -> Void = { _ in }
    ) -> [Key] {
        for name in ["node01", "node02", "node03"] {
            sim.addNode(name: name) {
                $0.antiEntropyInterval = name == "node01" ? interval : nil
                $0.viewExchangeInterval = nil
                configure(&$0)
            }
        }
        #expect(sim.formCluster(["node01", "node02", "node03"], via: "node01"))
        let keys = (0..<10_000).map { Key("key-\($0)") }
        let loader = Dot(actor: "loader.1", counter: 1)
        for name in sim.nodeNames {
            let storage = sim.storage(of: name)
            for (i, key) in keys.enumerated() {
                var version = Version(dot: loader, past: VersionVector(), value: "v\(i)")
                if name == "node02" && i < differing {
                    version = Version(
                        dot: Dot(actor: "loader.1", counter: 2), past: VersionVector(["loader.1": 1]), value: "new\(i)")
                }
                storage.setRecord(StoredRecord(siblings: SiblingSet([version])), for: key)
            }
            sim.crash(name)
            sim.restart(name)
        }
        return keys
    }

    /// One exchange between two replicas of 10,000 keys, `differing` of which
    /// one side holds in a newer version: returns (messages, bytes) and checks
    /// that afterwards both sides hold the same, newer versions.
    private func exchange(differing: Int) -> (messages: Int, bytes: Int) {
        var bytes = 0
        let sim = Simulation(seed: 1, network: .harness) { config, storage in
            SendWatcher(KvorumNode(config: config, storage: storage)) { message in
                if message.body.kind.hasPrefix("ae") { bytes += WireCodec.encode(message).count }
            }
        }
        // Every message counted belongs to the one exchange.
        let keys = threeReplicas(sim, differing: differing, interval: 100)
        sim.run(for: 1)
        sim.resetCounters()
        bytes = 0
        while sim.messagesSentByKind["aeTree"] == nil && sim.step() {}
        sim.run(for: 20)
        for key in keys.prefix(differing) {
            #expect(sim.storage(of: "node01").record(for: key)?.siblings.values.first?.hasPrefix("new") == true)
        }
        #expect(sim.storage(of: "node01").keys().count == keys.count)
        return (sim.messagesSent, bytes)
    }

    /// The cost of an exchange grows with the difference, not with the data:
    /// with nothing to repair it is one message; with 100 differing keys out of
    /// 10,000 it stays a handful of messages and a few kilobytes.
    @Test func costGrowsWithTheDifference() {
        var rows: [(Int, Int, Int)] = []
        for differing in [0, 1, 10, 100] {
            let (messages, bytes) = exchange(differing: differing)
            rows.append((differing, messages, bytes))
        }
        print(
            "anti-entropy, 10,000 keys: "
                + rows.map { "\($0.0) differing → \($0.1) messages, \($0.2) bytes" }.joined(separator: "; "))
        #expect(rows[0].1 == 1)
        #expect(rows[1].1 <= 7)
        #expect(rows[3].1 <= 12)
        #expect(rows.map(\.2) == rows.map(\.2).sorted())
        #expect(rows[3].2 < 60_000, "100 differing keys should not ship the 10,000")
    }

    /// When more partitions differ than an exchange's key budget covers (a
    /// replica missed a thousand writes spread over most of the ring), each
    /// exchange compares only as many as fit, and later rounds take the
    /// rest in turn until the replicas agree. Unbounded, the first exchange
    /// would list nearly a thousand partitions: on a store of millions of
    /// keys, seconds of reads on the node's thread.
    @Test func anExchangeOverItsKeyBudgetComparesPartitionsInTurn() {
        var most = 0
        let sim = Simulation(seed: 1, network: .harness) { config, storage in
            SendWatcher(KvorumNode(config: config, storage: storage)) { message in
                if case .aeKeys(let partitions, _) = message.body { most = max(most, partitions.count) }
            }
        }
        let keys = threeReplicas(sim, differing: 1000, interval: 1) { $0.antiEntropyKeyBudget = 64 }
        sim.run(for: 150)
        // 10,000 keys over 4,096 partitions is 2 a partition: 32 fit 64 keys.
        #expect(most == 32)
        let stale = keys.prefix(1000).filter {
            sim.storage(of: "node01").record(for: $0)?.siblings.values.first?.hasPrefix("new") != true
        }
        #expect(stale.isEmpty, "\(stale.count) of 1,000 keys not repaired")
    }

    /// A replica that missed a write whose every hint was lost (the stand-in's
    /// hint vanished) still receives it through anti-entropy; with
    /// anti-entropy off it would not.
    @Test(arguments: [true, false])
    func healsAReplicaWhoseHintsWereLost(antiEntropy: Bool) {
        let c = Cluster(nodes: 6, timing: .harness) { $0.antiEntropyInterval = antiEntropy ? 10 : nil }
        c.form()
        let key = "lost-hint"
        let r = c.replicas(of: key)
        c.sim.disconnect(r[2])
        guard c.put(key, "v", at: r[0], quorum: 2, timeLimit: 5) != nil else { return }
        c.sim.run(for: 3)
        for node in c.names {
            let storage = c.sim.storage(of: node)
            for hint in storage.hints() where hint.key == Key(key) {
                storage.removeHint(target: hint.target, key: hint.key)
            }
            c.sim.crash(node)
            c.sim.restart(node)
        }
        c.sim.connect(r[2])
        c.sim.run(for: 120)
        let healed = c.sim.storage(of: r[2]).record(for: Key(key))?.siblings.values == ["v"]
        #expect(healed == antiEntropy)
    }
}
