import KvorumCore
import KvorumSimulation
import Testing

@Suite struct CrashTests {
    @Test func crashLosesTimersAndMessagesInFlight() throws {
        let sim = echoSimulation(nodes: 2)
        sim.arm("probe", after: 0.5, at: "node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.crash("node02")
        #expect(sim.node("node02") == nil)
        #expect(!sim.isUp("node02"))
        sim.sendOps(1, from: "node01", to: "node02")
        #expect(sim.runUntilQuiet())
        #expect(sim.messagesDelivered == 0)
        #expect(!sim.trace.contains { $0.contains("node02 timer t") })
        #expect(sim.trace.filter { $0.hasSuffix("(node02 down)") }.count == 2)
    }

    @Test func messagesToAnEarlierLifeAreLost() throws {
        let sim = echoSimulation(nodes: 2)
        sim.sendOps(1, from: "node01", to: "node02")
        sim.run(for: 0.05)
        sim.restart("node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").received.isEmpty)
        sim.sendOps(1, from: "node01", to: "node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1])
    }

    @Test func restartMakesANewNodeOnTheSameStorage() throws {
        let sim = echoSimulation(nodes: 2)
        let before = try sim.echo("node02")
        let storage = sim.storage(of: "node02")
        #expect(before.storage === storage)
        sim.run(for: 1)
        sim.crash("node02")
        sim.run(for: 1)
        sim.restart("node02")
        let after = try sim.echo("node02")
        #expect(after !== before)
        #expect(after.startedAt == 2)
        #expect(after.storage === storage)
        #expect(sim.storage(of: "node02") === storage)
        #expect(storage.nextEpoch() == 3)
        #expect(sim.trace.suffix(2) == ["[  2.000] ** restart node02", "[  2.000] node02 start"])
    }

    @Test func restartingARunningNodeCrashesItFirst() throws {
        let sim = echoSimulation(nodes: 1)
        sim.arm("probe", after: 0.5, at: "node01")
        let before = try sim.echo("node01")
        sim.restart("node01")
        #expect(try sim.echo("node01") !== before)
        #expect(sim.runUntilQuiet())
        #expect(before.firedTimers.isEmpty)
        #expect(try sim.echo("node01").firedTimers.isEmpty)
    }

    @Test func clientRequestsToACrashedNodeAreLost() {
        let sim = echoSimulation(nodes: 1)
        sim.crash("node01")
        #expect(sim.request(ClientRequest(type: "ECHO"), at: "node01") == nil)
        #expect(sim.trace.last == "[  0.000] node01 <= #1 ECHO (lost: node01 down)")
        sim.restart("node01")
        #expect(sim.request(ClientRequest(type: "ECHO"), at: "node01")?.echoLabel == "ECHO")
    }

    @Test func repliesSurviveACrash() {
        let sim = echoSimulation(nodes: 1)
        let id = sim.send(ClientRequest(type: "ECHO", body: "x"), to: "node01")
        sim.crash("node01")
        #expect(sim.reply(to: id, at: "node01")?.echoDetail == #""x""#)
        #expect(sim.replies(of: "node01").count == 1)
    }
}
