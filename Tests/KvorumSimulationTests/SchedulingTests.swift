import KvorumCore
import KvorumSimulation
import Testing

@Suite struct SchedulingTests {
    @Test func nodesGetHarnessAddressesInOrder() throws {
        let sim = echoSimulation(nodes: 2)
        let third = sim.addNode(name: "extra", address: "10.0.0.1:80")
        #expect(sim.nodeNames == ["node01", "node02", "extra"])
        #expect(sim.address(of: "node01") == "127.0.0.1:9701")
        #expect(sim.address(of: "node02") == "127.0.0.1:9702")
        #expect(third == "10.0.0.1:80")
        #expect(try sim.echo("extra").startedAt == 0)
        #expect(sim.addNode(name: "node04") == "127.0.0.1:9704")
    }

    @Test func configureAdjustsTheNodeConfig() throws {
        let sim = echoSimulation(nodes: 1)
        sim.addNode(name: "tuned") { $0.requestTimeout = 0.05 }
        #expect(try sim.echo("tuned").config.requestTimeout == 0.05)
    }

    @Test func fixedDelayTakesOneTenthPerHop() throws {
        let sim = echoSimulation(nodes: 2)
        let response = sim.request(ClientRequest(type: "PING", body: .string(sim.address(of: "node02"))), at: "node01")
        #expect(response?.echoLabel == "PONG")
        #expect(response?.echoDetail == "127.0.0.1:9702")
        #expect(abs(sim.now - 0.2) < 1e-9)
        let arrival = try #require(try sim.echo("node02").received.first)
        #expect(abs(arrival.time - 0.1) < 1e-9)
        #expect(arrival.from == "127.0.0.1:9701")
        #expect(sim.trace.contains("[  0.100] node02 <- node01 read op:1 \"ping\""))
        #expect(sim.trace.contains("[  0.200] node01 reply #1 DUMP_KEYS_RESP [\"PONG\",\"127.0.0.1:9702\"]"))
    }

    @Test func uniformDelayStaysInItsRange() throws {
        let sim = echoSimulation(network: NetworkConfig(delay: .uniform(0.05, 0.25)))
        sim.sendOps(300, from: "node01", to: "node02")
        #expect(sim.runUntilQuiet())
        let times = try sim.echo("node02").received.map(\.time)
        #expect(times.count == 300)
        #expect(times.allSatisfy { $0 >= 0.05 && $0 < 0.25 })
        #expect(try #require(times.min()) < 0.07)
        #expect(try #require(times.max()) > 0.23)
    }

    /// Under `LinkOrder.fifo` a message never overtakes an earlier one on
    /// its link, as over one TCP connection; drawn independently, many do.
    @Test(arguments: [LinkOrder.fifo, .independent])
    func linksKeepTheirOrderUnderFifo(order: LinkOrder) throws {
        let sim = echoSimulation(network: NetworkConfig(delay: .uniform(0.01, 0.1), order: order))
        sim.sendOps(300, from: "node01", to: "node02")
        #expect(sim.runUntilQuiet())
        let received = try sim.echo("node02").receivedOps
        #expect(received.count == 300)
        #expect((received == Array(1...300)) == (order == .fifo))
        #expect(try sim.echo("node02").received.map(\.time).allSatisfy { $0 >= 0.01 && $0 < 0.1 })
    }

    @Test func selfMessagesAreImmediateAndNeverDropped() {
        let network = NetworkConfig(delay: .fixed(0.5), dropRate: 1, duplicateRate: 1, reorderRate: 1)
        let sim = echoSimulation(nodes: 1, network: network)
        sim.disconnect("node01")
        let response = sim.request(ClientRequest(type: "PING", body: .string(sim.address(of: "node01"))), at: "node01")
        #expect(response?.echoLabel == "PONG")
        #expect(sim.now == 0)
        #expect(sim.messagesDelivered == 2)
    }

    @Test func timersFireAtTheirTimeAndInOrder() throws {
        let sim = echoSimulation(nodes: 1)
        sim.arm("handoff", after: 0.5, at: "node01")
        sim.arm("join", after: 0.2, at: "node01")
        sim.run(for: 1)
        let fired = try sim.echo("node01").firedTimers
        #expect(fired.map(\.timer) == [.join, .handoff])
        #expect(fired.map(\.time) == [0.2, 0.5])
        #expect(sim.trace.contains("[  0.000] node01 set timer handoff +0.500"))
        #expect(sim.trace.contains("[  0.200] node01 timer join"))
    }

    @Test func rearmingATimerReplacesIt() throws {
        let sim = echoSimulation(nodes: 1)
        sim.arm("probe", after: 1.0, at: "node01")
        sim.arm("probe", after: 0.3, at: "node01")
        sim.run(for: 2)
        #expect(try sim.echo("node01").firedTimers.map(\.time) == [0.3])
        sim.arm("probe", after: 0.3, at: "node01")
        sim.run(for: 1)
        #expect(try sim.echo("node01").firedTimers.count == 2)
    }

    @Test func cancelledTimersDoNotFire() throws {
        let sim = echoSimulation(nodes: 1)
        sim.arm("probe", after: 0.5, at: "node01")
        sim.send(ClientRequest(type: "CANCEL", body: "probe"), to: "node01")
        sim.send(ClientRequest(type: "CANCEL", body: "join"), to: "node01")
        #expect(sim.runUntilQuiet())
        #expect(sim.now == 0)
        #expect(try sim.echo("node01").firedTimers.isEmpty)
        #expect(sim.trace.contains("[  0.000] node01 cancel timer probe"))
    }

    @Test func stepAndRunEventsCountEvents() {
        let sim = echoSimulation(nodes: 2)
        #expect(!sim.step())
        sim.sendOps(3, from: "node01", to: "node02")
        #expect(sim.step())
        #expect(sim.run(events: 10) == 2)
        #expect(!sim.step())
        #expect(sim.run(events: 10) == 0)
    }

    @Test func runForAdvancesTheClock() throws {
        let sim = echoSimulation(nodes: 1)
        sim.run(for: 2.5)
        #expect(sim.now == 2.5)
        sim.arm("probe", after: 0.4, at: "node01")
        sim.run(for: 0.2)
        #expect(sim.now == 2.7)
        #expect(try sim.echo("node01").firedTimers.isEmpty)
        sim.run(for: 0.2)
        #expect(try sim.echo("node01").firedTimers.count == 1)
        #expect(abs(sim.now - 2.9) < 1e-9)
    }

    @Test func runForStopsAtItsEventBudget() {
        let sim = echoSimulation(nodes: 1)
        sim.send(ClientRequest(type: "TICK", body: .double(0.1)), to: "node01")
        #expect(!sim.run(for: 10, maxEvents: 5))
        #expect(abs(sim.now - 0.5) < 1e-9)
    }

    @Test func runUntilQuietReportsEndlessWork() {
        let sim = echoSimulation(nodes: 1)
        sim.send(ClientRequest(type: "TICK", body: .double(1.0)), to: "node01")
        #expect(!sim.runUntilQuiet(maxEvents: 50))
        #expect(abs(sim.now - 50) < 1e-6)
    }

    @Test func runUntilReplyRespectsItsTimeLimit() {
        let sim = echoSimulation(nodes: 1)
        sim.arm("join", after: 0.5, at: "node01")
        let id = sim.send(ClientRequest(type: "LATER", body: .double(2.0)), to: "node01")
        #expect(sim.runUntilReply(to: id, at: "node01", timeLimit: 1.0) == nil)
        #expect(sim.now == 0.5)
        #expect(sim.reply(to: id, at: "node01") == nil)
        #expect(sim.runUntilReply(to: id, at: "node01", timeLimit: 3.0)?.echoLabel == "DONE")
        #expect(sim.now == 2.0)
    }

    @Test func runUntilReplyRespectsItsEventBudget() {
        let sim = echoSimulation(nodes: 2)
        let ping = ClientRequest(type: "PING", body: .string(sim.address(of: "node02")))
        let id = sim.send(ping, to: "node01")
        #expect(sim.runUntilReply(to: id, at: "node01", maxEvents: 1) == nil)
        #expect(sim.runUntilReply(to: id, at: "node01", maxEvents: 1)?.echoLabel == "PONG")
    }

    @Test func immediateRepliesNeedNoSteps() {
        let sim = echoSimulation(nodes: 1)
        sim.arm("probe", after: 0.5, at: "node01")
        #expect(sim.request(ClientRequest(type: "ECHO", body: [1, "a"]), at: "node01")?.echoDetail == #"[1,"a"]"#)
        #expect(sim.now == 0)
        #expect(sim.replies(of: "node01").map(\.response.echoLabel) == ["OK", "ECHO"])
        #expect(sim.trace.contains("[  0.000] node01 <= #2 ECHO [1,\"a\"]"))
    }

    @Test func extraRepliesAreFlagged() {
        let sim = echoSimulation(nodes: 1)
        let id = sim.send(ClientRequest(type: "TWICE"), to: "node01")
        #expect(sim.unexpectedReplies == 1)
        #expect(sim.replies(of: "node01").map(\.id) == [id, id])
        #expect(sim.trace.last == "[  0.000] node01 reply #1 DUMP_KEYS_RESP [\"OK\",\"\"] (unexpected)")
    }

    @Test func countersCountAndReset() {
        let sim = echoSimulation(nodes: 2)
        _ = sim.request(ClientRequest(type: "PING", body: .string(sim.address(of: "node02"))), at: "node01")
        #expect(sim.messagesSent == 2)
        #expect(sim.messagesDelivered == 2)
        #expect(sim.eventsProcessed == 5)
        #expect(sim.messagesSentByKind == ["read": 1, "readReply": 1])
        sim.resetCounters()
        #expect(sim.messagesSent == 0)
        #expect(sim.messagesDelivered == 0)
        #expect(sim.eventsProcessed == 0)
        #expect(sim.messagesSentByKind.isEmpty)
    }
}
