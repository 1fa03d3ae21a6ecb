import KvorumCore
import KvorumSimulation
import Testing

/// Replacing a dead host (docs/deploy.md): a member whose disk died is taken
/// out of the ring with REMOVE at another member, and a replacement joins
/// under a new name on the same address.
@Suite("Removal scenarios")
struct RemovalScenarioTests {
    /// Five nodes take w=2 writes; node03 dies for good, more writes go to
    /// stand-ins, node01 REMOVEs it, more writes, and node06 joins on
    /// node03's address. Once anti-entropy has had its rounds, every member
    /// lists the same four survivors plus node06, every LOOKUP names three
    /// live members, and each of them holds every acknowledged write of the key.
    @Test(arguments: [Timing.harness, .random(seed: 1), .random(seed: 2), .random(seed: 3)])
    func deadMemberIsRemovedAndReplaced(timing: Timing) {
        replaceDeadMember(timing: timing, settle: 90) { _ in }
    }

    /// The same without anti-entropy, settling for 20 s only: the surviving
    /// replicas hand each key to the members that take the dead one's place
    /// as soon as they learn of the removal (and the promoted stand-in hands
    /// it on to the replacement when it joins), so no copy waits for an
    /// anti-entropy round. Without that, 67 replica copies stayed missing.
    @Test(arguments: [Timing.harness, .random(seed: 1)])
    func deadMemberIsReplicatedWithoutAntiEntropy(timing: Timing) {
        replaceDeadMember(timing: timing, settle: 20) { $0.antiEntropyInterval = nil }
    }

    private func replaceDeadMember(timing: Timing, settle: Double, configure: @escaping (inout NodeConfig) -> Void) {
        let c = Cluster(nodes: 5, timing: timing, configure: configure)
        c.form()
        var keys = KeyGenerator(seed: 41)
        var written: [String: String] = [:]
        func write(_ batch: [String], through coordinators: [String]) {
            for (i, key) in batch.enumerated() {
                let coordinator = coordinators[i % coordinators.count]
                written[key] = c.put(key, "v-\(key)", at: coordinator, quorum: 2, timeLimit: 5)
            }
        }
        write(keys.keys(30, prefix: "before"), through: c.names)

        let dead = "node03"
        let survivors = c.names.filter { $0 != dead }
        c.sim.destroy(dead)
        write(keys.keys(20, prefix: "dead"), through: survivors)

        let removal = c.request("REMOVE", .string(dead), at: "node01")
        #expect(removal?.type == "REMOVE_RESP" && removal?.body == .string(dead), "\(String(describing: removal))")
        #expect(c.sim.awaitMembers(survivors, at: survivors), "the survivors agree that \(dead) is gone")
        write(keys.keys(20, prefix: "removed"), through: survivors)

        let replacement = "node06"
        c.sim.addNode(name: replacement, address: c.sim.address(of: dead), configure: configure)
        c.send("JOIN", .string(c.sim.address(of: "node02")), to: replacement)
        let members = survivors + [replacement]
        #expect(c.sim.awaitMembers(members, at: members), "\(replacement) joins on \(dead)'s address")
        c.sim.run(for: settle)

        #expect(written.count == 70 && written.values.allSatisfy { !$0.isEmpty })
        for member in members {
            #expect(c.sim.members(at: member).map(Set.init) == Set(members), "members at \(member)")
        }
        for (key, metadata) in written.sorted(by: { $0.key < $1.key }) {
            let replicas = c.replicas(of: key, at: replacement)
            #expect(Set(replicas).count == 3 && Set(replicas).isSubset(of: members), "\(key): \(replicas)")
            for member in survivors {
                #expect(c.replicas(of: key, at: member) == replicas, "LOOKUP \(key) at \(member)")
            }
            for replica in replicas {
                let held = c.sim.storage(of: replica).record(for: Key(key))?.siblings.metadata ?? []
                #expect(held == [metadata], "\(key) at \(replica): \(held)")
            }
        }
    }

    /// A removed node that was alive after all (cut off while it was
    /// removed) learns from the view that it has left once it is reachable:
    /// it refuses reads and writes, the others never list it, and a JOIN
    /// brings it back.
    @Test func removedNodeThatIsAliveStopsServingUntilItJoins() {
        let c = Cluster(nodes: 4, timing: .harness)
        c.form()
        let key = "alive"
        guard let metadata = c.put(key, "v", at: "node01", quorum: 3) else { return }
        c.sim.disconnect("node04")
        #expect(c.request("REMOVE", .string("node04"), at: "node02")?.type == "REMOVE_RESP")
        let others = ["node01", "node02", "node03"]
        #expect(c.sim.awaitMembers(others, at: others))
        c.sim.connect("node04")
        #expect(c.sim.awaitMembers(others, at: c.names), "node04 takes the view that removed it")
        let refused = c.request("GET", ["key": .string(key), "quorum": 1], at: "node04")
        #expect(refused?.type == "ERROR" && refused?.failure == .unavailable, "\(String(describing: refused))")

        c.send("JOIN", .string(c.sim.address(of: "node01")), to: "node04")
        #expect(c.sim.awaitMembers(c.names, at: c.names))
        #expect(c.get(key, at: "node04", quorum: 3)?.metadata == [metadata])
    }
}
