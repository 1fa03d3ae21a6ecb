import KvorumCore
import KvorumSimulation
import Testing

/// The ten acceptance scenarios of the seed (SPEC §4), each under the
/// harness's timing (0.1 s per message, 1 s client waits, its event budgets)
/// and under random delays across 20 seeds.
@Suite("Seed scenarios")
struct SeedScenarioTests {
    /// 1. Basic: an absent key reads as empty; a write is read back with its
    /// metadata at another replica and at a non-replica; a write with that
    /// metadata from the last non-replica supersedes it.
    @Test(arguments: Timing.all)
    func basic(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "basic-key"
        let replicas = c.replicas(of: key)
        #expect(replicas.count == 3)
        let others = c.nonReplicas(of: key)
        #expect(c.get(key, at: "node01", quorum: 2) == ReadResult(values: [], metadata: []))
        guard let m1 = c.put(key, "v1", at: replicas[0], quorum: 2) else { return }
        #expect(c.get(key, at: replicas[2], quorum: 2) == ReadResult(values: ["v1"], metadata: [m1]))
        #expect(c.get(key, at: others[0], quorum: 2) == ReadResult(values: ["v1"], metadata: [m1]))
        guard let m2 = c.put(key, "v2", at: others.last!, quorum: 2, metadata: m1) else { return }
        #expect(c.get(key, at: others.last!, quorum: 2) == ReadResult(values: ["v2"], metadata: [m2]))
        #expect(c.get(key, at: replicas[1], quorum: 2) == ReadResult(values: ["v2"], metadata: [m2]))
    }

    /// 2. Replicas check: after a q3 write, every replica cut off from the
    /// network still answers a q1 read from its own copy.
    @Test(arguments: Timing.all)
    func replicasCheck(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "replicas-check"
        let replicas = c.replicas(of: key)
        guard c.put(key, "value", at: replicas[0], quorum: 3) != nil else { return }
        for replica in replicas {
            c.sim.disconnect(replica)
            #expect(c.get(key, at: replica, quorum: 1)?.values == ["value"], "replica \(replica)")
            c.sim.connect(replica)
        }
    }

    /// 3. Stale replica: a replica that missed a write reads the newer version
    /// through a quorum, and read repair leaves the newer version in its store.
    @Test(arguments: Timing.all)
    func staleReplica(timing: Timing) {
        let c = Cluster(nodes: 3, timing: timing)
        c.form()
        let key = "stale-replica"
        let r = c.replicas(of: key)
        guard let m1 = c.put(key, "v1", at: r[0], quorum: 3) else { return }
        c.sim.disconnect(r[2])
        guard c.put(key, "v2", at: r[0], quorum: 2, metadata: m1) != nil else { return }
        c.sim.disconnect(r[0])
        c.sim.connect(r[2])
        #expect(c.get(key, at: r[2], quorum: 2)?.values == ["v2"])
        c.sim.run(events: 50)
        c.sim.disconnect(r[2])
        #expect(c.get(key, at: r[2], quorum: 1)?.values == ["v2"])
    }

    /// 4. Replicas divergence: each replica, cut off in turn, takes a q1 write
    /// based on the same version; after healing, a q3 read returns all three.
    @Test(arguments: Timing.all)
    func replicasDivergence(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "divergence"
        let replicas = c.replicas(of: key)
        guard let m = c.put(key, "v", at: replicas[0], quorum: 3) else { return }
        var written: Set<String> = []
        for (i, replica) in replicas.enumerated() {
            c.sim.disconnect(replica)
            let value = "v-\(i + 1)"
            if c.put(key, value, at: replica, quorum: 1, metadata: m) != nil { written.insert(value) }
        }
        c.sim.resetNetwork()
        c.sim.run(events: 100)
        #expect(c.get(key, at: replicas[0], quorum: 3)?.valueSet == written)
        #expect(written.count == 3)
    }

    /// 5. Sloppy quorum: with one replica cut off, a q3 write succeeds through
    /// a stand-in, a q3 read sees it at once, and once the replica is back the
    /// stand-in's hint reaches it within 30 events.
    @Test(arguments: Timing.all)
    func sloppyQuorum(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "sloppy"
        let r = c.replicas(of: key)
        guard let m1 = c.put(key, "v1", at: "node01", quorum: 3) else { return }
        c.sim.disconnect(r[0])
        guard c.put(key, "v2", at: r[1], quorum: 3, metadata: m1, timeLimit: 10) != nil else { return }
        #expect(c.get(key, at: r[1], quorum: 3)?.values == ["v2"])
        c.sim.connect(r[0])
        c.sim.run(events: 30)
        c.sim.disconnect(r[0])
        #expect(c.get(key, at: r[0], quorum: 1)?.values == ["v2"])
    }

    /// 6. Partitioned client: a non-replica cut off from all three replicas
    /// still takes a q2 write on stand-ins and reads it back within a second.
    @Test(arguments: Timing.all)
    func partitionedClient(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "partitioned-client"
        let replicas = c.replicas(of: key)
        let others = c.nonReplicas(of: key)
        c.sim.partition(others, replicas)
        guard let m = c.put(key, "value", at: others[0], quorum: 2, timeLimit: 60) else { return }
        #expect(c.get(key, at: others[0], quorum: 2) == ReadResult(values: ["value"], metadata: [m]))
    }

    /// 7. Partitioned clients: read-modify-writes on both sides of a partition
    /// end as two siblings, seen identically (values and metadata) from both
    /// clients after healing and held by every replica.
    @Test(arguments: Timing.all)
    func partitionedClients(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "partitioned-clients"
        let r = c.replicas(of: key)
        let clients = c.nonReplicas(of: key)
        guard c.put(key, "v", at: clients[0], quorum: 2) != nil else { return }
        c.sim.partition([clients[0], clients[1], r[0]], [clients[2], r[1], r[2]])
        guard readModifyWrite(c, key, at: clients[0], append: "1"),
            readModifyWrite(c, key, at: clients[1], append: "2"),
            readModifyWrite(c, key, at: clients[2], append: "3")
        else { return }
        #expect(c.get(key, at: clients[1], quorum: 2)?.values == ["v12"])
        #expect(c.get(key, at: clients[2], quorum: 2)?.values == ["v3"])
        c.sim.resetNetwork()
        c.sim.run(events: 100)
        let first = c.get(key, at: clients[0], quorum: 2)
        let second = c.get(key, at: clients[1], quorum: 2)
        #expect(first?.valueSet == ["v12", "v3"])
        #expect(first?.metadataSet == second?.metadataSet)
        #expect(second?.valueSet == ["v12", "v3"])
        for replica in r {
            c.sim.disconnect(replica)
            #expect(c.get(key, at: replica, quorum: 1)?.valueSet == ["v12", "v3"], "replica \(replica)")
            c.sim.connect(replica)
        }
    }

    /// 8. Shopping cart: the same partition with a `cart` key. After healing
    /// every read returns ONE value holding every item of every side, the same
    /// string everywhere, and every replica holds that merged value.
    @Test(arguments: Timing.all)
    func shoppingCart(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "cart-shopping"
        let r = c.replicas(of: key)
        let clients = c.nonReplicas(of: key)
        guard c.put(key, "cheese,wine", at: clients[0], quorum: 2) != nil else { return }
        c.sim.partition([clients[0], clients[1], r[0]], [clients[2], r[1], r[2]])
        guard addToCart(c, key, at: clients[0], items: "milk"),
            addToCart(c, key, at: clients[1], items: "eggs")
        else { return }
        guard let seen = c.get(key, at: clients[2], quorum: 2), seen.metadata.count == 1,
            c.put(key, "snacks,beer", at: clients[2], quorum: 2, metadata: seen.metadata[0]) != nil
        else { return }
        c.sim.resetNetwork()
        c.sim.run(events: 100)
        let expected: Set<String> = ["cheese", "wine", "milk", "eggs", "snacks", "beer"]
        var strings: Set<String> = []
        for node in [clients[0], clients[1], clients[2]] {
            let result = c.get(key, at: node, quorum: 2)
            #expect(result?.values.count == 1, "at \(node)")
            if let value = result?.values.first {
                #expect(Set(CartMerge.items(value)) == expected)
                strings.insert(value)
            }
        }
        for replica in r {
            c.sim.disconnect(replica)
            let result = c.get(key, at: replica, quorum: 1)
            #expect(result?.values.count == 1, "replica \(replica)")
            if let value = result?.values.first { strings.insert(value) }
            c.sim.connect(replica)
        }
        #expect(strings.count == 1, "one merged string everywhere: \(strings)")
    }

    /// 9. Node join: node01 joins a running five-node cluster through node02,
    /// every node agrees on six members, node01 reads the key written before it
    /// joined with q3, and it now replicates some keys.
    @Test(arguments: Timing.all)
    func nodeJoin(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        let five = Array(c.names.dropFirst())
        c.form(five, via: "node02")
        var generator = KeyGenerator(seed: 9)
        let sample = generator.keys(100)
        for key in sample {
            #expect(!c.replicas(of: key, at: "node02").contains("node01"))
        }
        let key = "join-key"
        guard c.put(key, "value", at: "node02", quorum: 3) != nil else { return }
        c.send("JOIN", .string(c.sim.address(of: "node02")), to: "node01")
        #expect(c.sim.awaitMembers(c.names, at: c.names))
        #expect(c.get(key, at: "node01", quorum: 3)?.values == ["value"])
        #expect(sample.contains { c.replicas(of: $0, at: "node01").contains("node01") })
        #expect(sample.contains { c.replicas(of: $0, at: "node04").contains("node01") })
    }

    /// 10. Node leave: a replica of a written key leaves; the other five agree
    /// on membership, no LOOKUP names the leaver, and the key is still fully
    /// replicated.
    @Test(arguments: Timing.all)
    func nodeLeave(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "leave-key"
        let replicas = c.replicas(of: key)
        guard c.put(key, "value", at: "node01", quorum: 2) != nil else { return }
        let leaver = replicas[0]
        let rest = c.names.filter { $0 != leaver }
        c.send("LEAVE", to: leaver)
        #expect(c.sim.awaitMembers(rest, at: rest))
        var generator = KeyGenerator(seed: 10)
        for node in rest {
            #expect(!c.replicas(of: key, at: node).contains(leaver))
        }
        for sample in generator.keys(100) {
            #expect(!c.replicas(of: sample, at: rest[0]).contains(leaver))
        }
        #expect(c.get(key, at: rest[0], quorum: 3)?.values == ["value"])
    }

    private func readModifyWrite(_ c: Cluster, _ key: String, at node: String, append suffix: String) -> Bool {
        guard let read = c.get(key, at: node, quorum: 2), read.values.count == 1 else {
            c.fail("read-modify-write at \(node) expected one value")
            return false
        }
        return c.put(key, read.values[0] + suffix, at: node, quorum: 2, metadata: read.metadata[0]) != nil
    }

    private func addToCart(_ c: Cluster, _ key: String, at node: String, items: String) -> Bool {
        guard let read = c.get(key, at: node, quorum: 2), read.values.count == 1 else {
            c.fail("cart read at \(node) expected one value")
            return false
        }
        return c.put(key, read.values[0] + "," + items, at: node, quorum: 2, metadata: read.metadata[0]) != nil
    }
}
