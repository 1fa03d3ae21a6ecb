import KvorumCore
import KvorumSimulation
import Testing

/// Deletes in the simulator: tombstones supersede exactly what their context
/// covered, a write concurrent with a delete survives, and reaping removes a
/// tombstone only once every member holds it or nothing, for the grace period.
@Suite("Deletes and reaping")
struct DeleteScenarioTests {
    /// Short reaping times, so a scenario reaps within a minute of virtual time.
    static func quickReaping(_ config: inout NodeConfig) {
        config.reaping = Reaping(grace: 6, interval: 2, batchSize: 8)
    }

    /// Anti-entropy off as well: what reaches a replica comes from the write,
    /// the hint or the read repair the scenario names.
    static func quickReapingWithoutAntiEntropy(_ config: inout NodeConfig) {
        quickReaping(&config)
        config.antiEntropyInterval = nil
    }

    /// A DELETE through the seed-shaped bridge: the tombstone's metadata.
    static func delete(
        _ key: String, in cluster: Cluster, at node: String, quorum: Int, metadata: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> String? {
        let request = ClientRequest(
            .delete(key: Key(key), quorum: quorum, context: metadata.map { try! Metadata.context(from: $0) }))
        guard let response = cluster.request(request.type, request.body, at: node, sourceLocation: sourceLocation),
            case .written(let written, _)? = try? ClientReply(seed: response)
        else {
            cluster.fail("DELETE \(key) at \(node) failed", sourceLocation: sourceLocation)
            return nil
        }
        return written
    }

    /// A GET's typed answer: live values, tombstones and the covering context.
    static func read(
        _ key: String, in cluster: Cluster, at node: String, quorum: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> KvorumCore.ReadResult? {
        let request = ClientRequest(.get(key: Key(key), quorum: quorum))
        guard let response = cluster.request(request.type, request.body, at: node, sourceLocation: sourceLocation),
            case .versions(let read)? = try? ClientReply(seed: response)
        else {
            cluster.fail("GET \(key) at \(node) failed", sourceLocation: sourceLocation)
            return nil
        }
        return read
    }

    /// What `node` stores for `key`: its versions' texts, tombstones as `⊘`.
    static func stored(_ key: String, at node: String, in cluster: Cluster) -> [String]? {
        cluster.sim.storage(of: node).record(for: Key(key)).map { record in
            record.siblings.versions.map { $0.isTombstone ? "⊘" : $0.value }.sorted()
        }
    }

    /// A delete and a write made from the same read, at the same time at two
    /// coordinators: the write survives as a live sibling of the tombstone,
    /// the read says a tombstone is among the versions, and a write with the
    /// read's context supersedes both.
    @Test(arguments: (1...5).map { Timing.random(seed: $0) })
    func deleteConcurrentWithPut(timing: Timing) {
        let cluster = Cluster(nodes: 4, timing: timing, configure: Self.quickReaping)
        cluster.form()
        guard let v = cluster.put("k", "v", at: "node01", quorum: 3) else { return }
        let del = ClientRequest(.delete(key: "k", quorum: 2, context: try! Metadata.context(from: v)))
        cluster.send(del.type, del.body, to: "node02")
        cluster.send("PUT", ["key": "k", "value": "w", "quorum": 2, "metadata": .string(v)], to: "node03")
        cluster.sim.run(for: 5)
        guard let read = Self.read("k", in: cluster, at: "node04", quorum: 3) else { return }
        #expect(read.values.map(\.text) == ["w"])
        #expect(read.tombstones == 1)
        guard let resolved = cluster.put("k", "x", at: "node01", quorum: 3, metadata: Metadata.encode(read.context))
        else { return }
        cluster.sim.run(for: 30)
        for node in cluster.replicas(of: "k") {
            #expect(Self.stored("k", at: node, in: cluster) == ["x"], "\(node) after the resolving write")
        }
        #expect(cluster.get("k", at: "node02", quorum: 2)?.metadata == [resolved])
    }

    /// A read of a deleted key answers no value but the context of the
    /// tombstone, so the next write supersedes it instead of becoming its
    /// sibling.
    @Test func writeAfterDeleteSupersedesTheTombstone() {
        let cluster = Cluster(nodes: 3, timing: .random(seed: 7), configure: Self.quickReaping)
        cluster.form()
        guard let v = cluster.put("k", "v", at: "node01", quorum: 3),
            Self.delete("k", in: cluster, at: "node02", quorum: 3, metadata: v) != nil,
            let read = Self.read("k", in: cluster, at: "node03", quorum: 2)
        else { return }
        #expect(read.isAbsent)
        #expect(read.tombstones == 1)
        #expect(cluster.put("k", "again", at: "node03", quorum: 3, metadata: Metadata.encode(read.context)) != nil)
        for node in cluster.names {
            #expect(Self.stored("k", at: node, in: cluster) == ["again"], "\(node)")
        }
    }

    /// With every replica holding the tombstone, it is reaped from every
    /// node after the grace period, and the key reads as absent with no context.
    @Test(arguments: (1...5).map { Timing.random(seed: $0) })
    func reapAfterEveryReplicaHasTheTombstone(timing: Timing) {
        let cluster = Cluster(nodes: 4, timing: timing, configure: Self.quickReaping)
        cluster.form()
        guard let v = cluster.put("k", "v", at: "node01", quorum: 3),
            Self.delete("k", in: cluster, at: "node04", quorum: 3, metadata: v) != nil
        else { return }
        cluster.sim.resetCounters()
        cluster.sim.run(for: 3)
        for node in cluster.replicas(of: "k") {
            #expect(Self.stored("k", at: node, in: cluster) == ["⊘"], "\(node) reaped before the grace period")
        }
        cluster.sim.run(for: 20)
        for node in cluster.names {
            #expect(Self.stored("k", at: node, in: cluster) == nil, "\(node) still holds the key")
        }
        #expect(cluster.sim.messagesSentByKind["reap", default: 0] == 2)
        let read = Self.read("k", in: cluster, at: "node02", quorum: 3)
        #expect(read?.isAbsent == true && read?.tombstones == 0 && read?.context.isEmpty == true)
    }

    /// A replica down during the delete and long after (ten grace periods):
    /// the others keep the tombstone for as long as it is away, since it
    /// cannot answer the checks. Back, it gets the tombstone from the
    /// stand-in's hint, and only then is the key reaped, everywhere; the
    /// deleted value never comes back.
    @Test(arguments: (1...5).map { Timing.random(seed: $0) })
    func replicaAwayDuringReap(timing: Timing) {
        let cluster = Cluster(nodes: 4, timing: timing, configure: Self.quickReapingWithoutAntiEntropy)
        cluster.form()
        let replicas = cluster.replicas(of: "k")
        guard replicas.count == 3, let v = cluster.put("k", "v", at: replicas[0], quorum: 3) else { return }
        let away = replicas[2]
        cluster.sim.crash(away)
        guard Self.delete("k", in: cluster, at: replicas[0], quorum: 2, metadata: v) != nil else { return }
        cluster.sim.run(for: 60)
        for node in replicas where node != away {
            #expect(Self.stored("k", at: node, in: cluster) == ["⊘"], "\(node) reaped while \(away) was away")
        }
        #expect(Self.stored("k", at: away, in: cluster) == ["v"])
        cluster.sim.restart(away)
        cluster.sim.run(for: 40)
        for node in cluster.names {
            #expect(Self.stored("k", at: node, in: cluster) == nil, "\(node) still holds the key")
        }
        #expect(Self.read("k", in: cluster, at: away, quorum: 3)?.isAbsent == true)
    }

    /// A delete during a partition: the side with the quorum deletes; the
    /// cut-off replica keeps the old value until the heal, then anti-entropy
    /// brings it the tombstone, and the key is reaped with no replica ever
    /// holding the value again.
    @Test(arguments: (1...5).map { Timing.random(seed: $0) })
    func deleteDuringPartitionThenHeal(timing: Timing) {
        let cluster = Cluster(
            nodes: 5, timing: timing, network: NetworkConfig.tcpLike(holdLimit: 5), configure: Self.quickReaping)
        cluster.form()
        let replicas = cluster.replicas(of: "k")
        guard let v = cluster.put("k", "v", at: replicas[0], quorum: 3) else { return }
        let cut = [replicas[2]]
        let rest = cluster.names.filter { $0 != replicas[2] }
        cluster.sim.partition(cut, rest)
        guard Self.delete("k", in: cluster, at: replicas[0], quorum: 2, metadata: v) != nil else { return }
        #expect(Self.read("k", in: cluster, at: replicas[1], quorum: 2)?.isAbsent == true)
        cluster.sim.run(for: 30)
        #expect(Self.stored("k", at: replicas[2], in: cluster) == ["v"])
        #expect(Self.stored("k", at: replicas[0], in: cluster) == ["⊘"], "reaped during the partition")
        cluster.sim.resetNetwork()
        var everHeld = false
        for _ in 0..<60 {
            cluster.sim.run(for: 1)
            for node in cluster.names where Self.stored("k", at: node, in: cluster)?.contains("v") == true {
                everHeld = everHeld || node != replicas[2]
            }
        }
        #expect(!everHeld, "the deleted value reached another node")
        for node in cluster.names {
            #expect(Self.stored("k", at: node, in: cluster) == nil, "\(node) still holds the key")
        }
    }
}

extension DeleteScenarioTests {
    /// What a delete costs in messages: the same as a put through the same
    /// coordinator (one copy and one acknowledgement per other replica), and
    /// then, to reap, one check and one answer per other member each round
    /// until the grace period is over, and one `reap` per other holder.
    @Test func deleteCostsWhatAPutCosts() {
        let cluster = Cluster(nodes: 5, timing: .random(seed: 3), configure: Self.quickReaping)
        cluster.form()
        let replicas = cluster.replicas(of: "k")
        cluster.sim.run(for: 5)
        cluster.sim.resetCounters()
        guard let v = cluster.put("k", "v", at: replicas[0], quorum: 3) else { return }
        cluster.sim.run(for: 1)
        let put = cluster.sim.messagesSentByKind.filter { $0.key == "write" || $0.key == "writeAck" }
        cluster.sim.resetCounters()
        guard Self.delete("k", in: cluster, at: replicas[0], quorum: 3, metadata: v) != nil else { return }
        cluster.sim.run(for: 1)
        let delete = cluster.sim.messagesSentByKind.filter { $0.key == "write" || $0.key == "writeAck" }
        #expect(put == ["write": 2, "writeAck": 2])
        #expect(delete == put)
        cluster.sim.resetCounters()
        cluster.sim.run(for: 20)
        let reaping = cluster.sim.messagesSentByKind.filter { $0.key.hasPrefix("reap") }
        let rounds = reaping["reapCheck", default: 0] / 4
        print("delete of one key, 5 nodes: \(delete); reaping: \(reaping) in \(rounds) rounds")
        #expect(reaping["reapStatus"] == reaping["reapCheck"])
        #expect(reaping["reap"] == 2)
        #expect(rounds >= 2, "two clean checks at least the grace period apart")
        for node in cluster.names { #expect(Self.stored("k", at: node, in: cluster) == nil) }
    }
}
