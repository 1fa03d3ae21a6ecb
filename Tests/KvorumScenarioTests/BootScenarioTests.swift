import KvorumCore
import KvorumSimulation
import Testing

/// A server process starts with `Event.boot`: the node itself (not the
/// shell) decides how it rejoins, so the choice runs in the simulator.
@Suite("Boot scenarios")
struct BootScenarioTests {
    @Test func aFreshNodeBootedAloneStartsAClusterOfOne() {
        let c = Cluster(nodes: 2, timing: .harness)
        c.sim.boot("node01")
        c.sim.run(for: 1)
        #expect(c.sim.members(at: "node01") == ["node01"])
        #expect(c.sim.members(at: "node02") == [])
        #expect(!c.sim.trace.contains { $0.contains(" join ") })
    }

    @Test func aNodeBootedWithAContactJoinsItsCluster() {
        let c = Cluster(nodes: 3, timing: .harness)
        c.form(["node01", "node02"])
        c.sim.boot("node03", joining: c.sim.address(of: "node01"))
        #expect(c.sim.awaitMembers(["node01", "node02", "node03"], at: c.names))
    }

    @Test func aMemberBootedAtItsAddressResumesWithoutJoining() {
        let c = Cluster(nodes: 3, timing: .harness)
        c.form()
        let before = c.sim.trace.count
        c.sim.boot("node02")
        c.sim.run(for: 2)
        #expect(c.sim.members(at: "node02") == c.names)
        let after = c.sim.trace[before...]
        #expect(after.contains { $0.contains("node02 boot") })
        #expect(!after.contains { $0.contains("-> ") && $0.contains(" join ") })
    }

    @Test func aNodeThatLeftAndBootsAloneStartsOverAsAClusterOfOne() {
        let c = Cluster(nodes: 3, timing: .harness)
        c.form()
        c.send("LEAVE", to: "node03")
        #expect(c.sim.awaitMembers(["node01", "node02"], at: ["node01", "node02"]))
        c.sim.boot("node03")
        c.sim.run(for: 1)
        #expect(c.sim.members(at: "node03")?.contains("node03") == true)
    }

    /// A member told to JOIN an address no node has refuses with an ERROR
    /// and keeps serving (it used to answer every request "still joining"
    /// for ever).
    @Test(arguments: [Timing.harness, .random(seed: 1)])
    func aMemberToldToJoinAnUnreachableAddressKeepsServing(timing: Timing) {
        let c = Cluster(nodes: 3, timing: timing)
        c.form()
        let refusal = c.request("JOIN", .string("10.9.9.9:7700"), at: "node02")
        #expect(refusal?.type == "ERROR" && refusal?.failure == .badRequest, "\(String(describing: refusal))")
        c.sim.run(for: 3)
        #expect(c.sim.members(at: "node02") == c.names)
        #expect(c.put("after-join", "v", at: "node02", quorum: 2, timeLimit: 5) != nil)
    }
}
