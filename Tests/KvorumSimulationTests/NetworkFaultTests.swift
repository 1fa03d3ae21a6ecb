import KvorumCore
import KvorumSimulation
import Testing

@Suite struct NetworkFaultTests {
    @Test func disconnectIsDecidedAtDelivery() throws {
        let sim = echoSimulation(nodes: 2)
        sim.disconnect("node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.run(for: 0.05)
        sim.connect("node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1])

        sim.disconnect("node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1])
        #expect(sim.trace.contains("[  0.200] dropped node01 -> node02 writeAck op:1 (node02 disconnected)"))
    }

    @Test func disconnectDropsOutgoingToo() throws {
        let sim = echoSimulation(nodes: 2)
        sim.disconnect("node01")
        sim.sendOps(2, from: "node01", to: "node02")
        #expect(sim.runUntilQuiet())
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(sim.messagesSent == 2)
        #expect(sim.messagesDelivered == 0)
    }

    @Test func disconnectIsDecidedAtSendWhenAsked() throws {
        let sim = echoSimulation(nodes: 2, network: NetworkConfig(dropDecision: .atSend))
        sim.disconnect("node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.connect("node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(sim.trace.contains("[  0.000] dropped node01 -> node02 writeAck op:1 (node02 disconnected)"))

        sim.sendOps(1, from: "node01", to: "node02")
        sim.disconnect("node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1])
    }

    @Test func cutLinkCutsOneDirectionOnly() throws {
        let sim = echoSimulation(nodes: 2)
        sim.cutLink(from: "node01", to: "node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.sendOps(1, from: "node02", to: "node01")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(try sim.echo("node01").receivedOps == [1])
        #expect(sim.trace.contains("[  0.100] dropped node01 -> node02 writeAck op:1 (link cut)"))

        sim.restoreLink(from: "node01", to: "node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1])
    }

    @Test func partitionCutsBothDirectionsAcrossGroups() throws {
        let sim = echoSimulation(nodes: 3)
        sim.partition(["node01", "node02"], ["node03"])
        for (from, to) in [("node01", "node03"), ("node03", "node02"), ("node01", "node02"), ("node02", "node01")] {
            sim.sendOps(1, from: from, to: to)
        }
        sim.runUntilQuiet()
        #expect(try sim.echo("node03").received.isEmpty)
        #expect(try sim.echo("node02").received.map(\.from) == [sim.address(of: "node01")])
        #expect(try sim.echo("node01").received.map(\.from) == [sim.address(of: "node02")])
        #expect(sim.trace.contains("[  0.000] ** partition [node01,node02] | [node03]"))
    }

    @Test func resetNetworkHealsEverything() throws {
        let sim = echoSimulation(nodes: 3)
        sim.partition(["node01"], ["node02"])
        sim.disconnect("node03")
        sim.cutLink(from: "node02", to: "node03")
        sim.resetNetwork()
        sim.sendOps(1, from: "node01", to: "node02")
        sim.sendOps(1, from: "node02", to: "node01")
        sim.sendOps(1, from: "node02", to: "node03")
        sim.runUntilQuiet()
        #expect(sim.messagesDelivered == 3)
    }

    @Test func unknownAddressesAreDroppedAndTraced() {
        let sim = echoSimulation(nodes: 1)
        sim.send(ClientRequest(type: "SEND", body: ["to": "10.9.9.9:1", "count": 1]), to: "node01")
        #expect(sim.runUntilQuiet())
        #expect(sim.messagesDelivered == 0)
        #expect(sim.trace.contains("[  0.000] dropped node01 -> 10.9.9.9:1 writeAck op:1 (unknown address)"))
    }

    @Test(arguments: [DropDecision.atDelivery, .atSend])
    func dropRateLosesAboutThatShare(decision: DropDecision) throws {
        let sim = echoSimulation(seed: 7, network: NetworkConfig(dropRate: 0.3, dropDecision: decision))
        sim.sendOps(2000, from: "node01", to: "node02")
        sim.runUntilQuiet()
        let delivered = try sim.echo("node02").received.count
        #expect((1300...1500).contains(delivered))
        #expect(sim.messagesDelivered == delivered)
    }

    @Test func everyMessageIsDuplicatedAtRateOne() throws {
        let sim = echoSimulation(network: NetworkConfig(delay: .uniform(0.1, 0.2), duplicateRate: 1))
        sim.sendOps(50, from: "node01", to: "node02")
        sim.runUntilQuiet()
        let ops = try sim.echo("node02").receivedOps
        #expect(ops.count == 100)
        #expect(ops.sorted() == (1...50).flatMap { [UInt64($0), UInt64($0)] })
        #expect(sim.messagesSent == 50)
        #expect(sim.trace.contains("[  0.000] node01 -> node02 writeAck op:1 (duplicated)"))
    }

    @Test func duplicationHappensAtItsRate() throws {
        let sim = echoSimulation(seed: 3, network: NetworkConfig(duplicateRate: 0.5))
        sim.sendOps(1000, from: "node01", to: "node02")
        sim.runUntilQuiet()
        #expect((1400...1600).contains(try sim.echo("node02").received.count))
    }

    @Test func reorderingDelaysSomeMessages() throws {
        let inOrder = echoSimulation(network: NetworkConfig(reorderRate: 0))
        inOrder.sendOps(200, from: "node01", to: "node02")
        inOrder.runUntilQuiet()
        #expect(try inOrder.echo("node02").receivedOps == (1...200).map(UInt64.init))

        let network = NetworkConfig(reorderRate: 0.3, reorderExtraDelay: 0.5)
        let shuffled = echoSimulation(seed: 11, network: network)
        shuffled.sendOps(200, from: "node01", to: "node02")
        shuffled.runUntilQuiet()
        let node = try shuffled.echo("node02")
        #expect(node.receivedOps.sorted() == (1...200).map(UInt64.init))
        #expect(node.receivedOps != node.receivedOps.sorted())
        let late = node.received.filter { $0.time > 0.1 + 1e-9 }
        #expect((40...80).contains(late.count))
        #expect(node.received.allSatisfy { $0.time < 0.6 })
    }

    /// `CutModel.holds`: what a cut link holds arrives after the heal, in
    /// order, and what was sent too long before the heal is dropped.
    @Test func heldMessagesArriveInOrderAfterTheHeal() throws {
        let sim = echoSimulation(network: NetworkConfig(cuts: .holds(limit: 5)))
        sim.cutLink(from: "node01", to: "node02")
        sim.sendOps(3, from: "node01", to: "node02")
        sim.run(for: 4)
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(sim.trace.contains("[  0.100] held node01 -> node02 writeAck op:1 (link cut)"))
        sim.restoreLink(from: "node01", to: "node02")
        sim.runUntilQuiet()
        let node = try sim.echo("node02")
        #expect(node.receivedOps == [1, 2, 3])
        #expect(node.received.allSatisfy { abs($0.time - 4.1) < 1e-9 })
        #expect(sim.trace.contains("[  4.000] late node01 -> node02 writeAck op:1 (sent 4.000 s ago)"))

        sim.disconnect("node02")
        sim.sendOps(2, from: "node01", to: "node02")
        sim.run(for: 6)
        sim.connect("node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1, 2, 3])
        #expect(
            sim.trace.contains("[ 10.100] dropped node01 -> node02 writeAck op:2 (held 6.000 s, over the hold limit)"))
    }

    /// A held message survives its sender's crash (the kernel still sends
    /// it) but not its destination's (the connection is reset); a link that
    /// is cut again holds what it released once more.
    @Test func heldMessagesFollowTheEndpoints() throws {
        let sim = echoSimulation(nodes: 3, network: NetworkConfig(cuts: .holds(limit: 60)))
        sim.partition(["node01"], ["node02", "node03"])
        sim.sendOps(1, from: "node01", to: "node02")
        sim.sendOps(1, from: "node01", to: "node03")
        sim.run(for: 1)
        sim.crash("node01")
        sim.crash("node03")
        sim.restart("node03")
        sim.resetNetwork()
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").receivedOps == [1])
        #expect(try sim.echo("node03").received.isEmpty)
        #expect(sim.trace.contains("[  1.100] dropped node01 -> node03 writeAck op:1 (node03 down)"))
    }

    /// The harness model is untouched: a cut still loses what crosses it.
    @Test func harnessCutsStillDrop() throws {
        let sim = echoSimulation()
        sim.cutLink(from: "node01", to: "node02")
        sim.sendOps(1, from: "node01", to: "node02")
        sim.run(for: 1)
        sim.restoreLink(from: "node01", to: "node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").received.isEmpty)
        #expect(!sim.trace.contains { $0.contains("held") || $0.contains("late") })
    }

    @Test func networkChangesApplyToLaterMessages() throws {
        let sim = echoSimulation(nodes: 2)
        sim.sendOps(1, from: "node01", to: "node02")
        sim.network.delay = .fixed(0.5)
        sim.sendOps(1, from: "node01", to: "node02")
        sim.runUntilQuiet()
        #expect(try sim.echo("node02").received.map(\.time) == [0.1, 0.5])
    }
}
