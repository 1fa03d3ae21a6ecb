import KvorumCore
import KvorumSimulation
import Testing

/// The node model: an event that works on the store takes time, and a
/// node handles one event at a time, as a server's event loop does; a
/// paused node handles none.
@Suite struct WorkModelTests {
    /// 10 ms a row read, nothing else.
    let slowReads = WorkModel(perEvent: 0, perRowRead: 0.01, perRowWritten: 0)

    @Test func anEventsMessagesLeaveWhenItEnds() throws {
        let sim = echoSimulation(nodes: 2)
        sim.workModel = slowReads
        sim.work(50, at: "node01", thenPing: "node02")
        sim.run(for: 2)
        let arrival = try #require(try sim.echo("node02").received.first)
        #expect(abs(arrival.time - 0.6) < 1e-9, "0.5 s of reads, then 0.1 s on the wire")
        let longest = try #require(sim.longestEvent)
        #expect(longest.node == "node01" && longest.started == 0 && abs(longest.seconds - 0.5) < 1e-9)
    }

    @Test func whatComesDueForABusyNodeWaitsInOrder() throws {
        let sim = echoSimulation(nodes: 2)
        sim.workModel = slowReads
        sim.arm("handoff", after: 0.2, at: "node02")
        sim.work(100, at: "node02")
        sim.sendOps(3, from: "node01", to: "node02")
        sim.run(for: 0.5)
        let echo = sim.send(ClientRequest(type: "ECHO", body: "hi"), to: "node02")
        #expect(sim.trace.last?.hasSuffix("node02 <= #4 ECHO \"hi\" (waits: node02 busy)") == true)
        #expect(sim.reply(to: echo, at: "node02") == nil)
        sim.run(for: 0.4)
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(try sim.echo("node02").firedTimers.isEmpty)
        sim.run(for: 0.2)
        let node02 = try sim.echo("node02")
        #expect(node02.receivedOps == [1, 2, 3])
        #expect(node02.received.allSatisfy { abs($0.time - 1.0) < 1e-9 })
        #expect(node02.firedTimers.map(\.time) == [1.0])
        #expect(sim.reply(to: echo, at: "node02")?.echoLabel == "ECHO")
    }

    @Test func theFreeModelTakesNoTime() throws {
        let sim = echoSimulation(nodes: 2)
        sim.work(50, at: "node01", thenPing: "node02")
        sim.run(for: 1)
        #expect(try sim.echo("node02").received.first?.time == 0.1)
        #expect(sim.longestEvent == nil)
    }

    @Test func aPauseHoldsEverythingUntilItEnds() throws {
        let sim = echoSimulation(nodes: 2, network: NetworkConfig(cuts: .holds(limit: 60)))
        sim.arm("probe", after: 1, at: "node02")
        sim.pause("node02", for: 2)
        #expect(sim.trace.last == "[  0.000] ** pause node02 2.000 s")
        sim.sendOps(5, from: "node01", to: "node02")
        sim.run(for: 1)
        // A cut after the messages arrived does not touch them.
        sim.disconnect("node02")
        sim.run(for: 1.5)
        let node02 = try sim.echo("node02")
        #expect(node02.receivedOps == [1, 2, 3, 4, 5])
        #expect(node02.received.allSatisfy { $0.time == 2 })
        #expect(node02.firedTimers.map(\.time) == [2])
    }

    @Test func aCrashEndsAPauseAndLosesWhatWaited() throws {
        let sim = echoSimulation(nodes: 2)
        sim.pause("node02", for: 10)
        sim.sendOps(2, from: "node01", to: "node02")
        let waiting = sim.send(ClientRequest(type: "ECHO", body: "lost"), to: "node02")
        sim.run(for: 1)
        sim.restart("node02")
        #expect(try sim.echo("node02").startedAt == 1)
        sim.run(for: 10)
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(sim.reply(to: waiting, at: "node02") == nil)
        #expect(sim.trace.contains { $0.hasSuffix("node02 lost #2 ECHO (node02 down)") })
        sim.sendOps(1, from: "node01", to: "node02")
        sim.run(for: 1)
        #expect(try sim.echo("node02").received.map(\.time) == [11.1])
    }
}
