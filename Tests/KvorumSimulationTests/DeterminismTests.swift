import KvorumCore
import KvorumSimulation
import Testing

@Suite struct DeterminismTests {
    /// A randomized workload over a lossy, duplicating, reordering network
    /// with faults; every choice comes from the seed.
    static func workload(seed: UInt64, decision: DropDecision) -> Simulation {
        let network = NetworkConfig(
            delay: .uniform(0.05, 0.3),
            dropRate: 0.1,
            duplicateRate: 0.1,
            reorderRate: 0.2,
            reorderExtraDelay: 0.5,
            dropDecision: decision
        )
        let sim = echoSimulation(nodes: 4, seed: seed, network: network)
        var random = SeededRandom(seed: seed)
        let names = sim.nodeNames
        for _ in 0..<60 {
            let node = names[random.nextInt(below: names.count)]
            let peer = names[random.nextInt(below: names.count)]
            switch random.nextInt(below: 12) {
            case 0..<4:
                sim.send(ClientRequest(type: "PING", body: .string(sim.address(of: peer))), to: node)
            case 4..<7:
                sim.sendOps(1 + random.nextInt(below: 4), from: node, to: peer)
            case 7..<9:
                sim.arm(["probe", "join", "handoff"][random.nextInt(below: 3)], after: random.nextUnit(), at: node)
            case 9:
                random.chance(0.5) ? sim.disconnect(node) : sim.connect(node)
            case 10:
                random.chance(0.7) ? sim.restart(node) : sim.crash(node)
            default:
                random.chance(0.5) ? sim.cutLink(from: node, to: peer) : sim.restoreLink(from: node, to: peer)
            }
            sim.run(events: random.nextInt(below: 8))
        }
        for name in names where !sim.isUp(name) {
            sim.restart(name)
        }
        sim.resetNetwork()
        sim.runUntilQuiet()
        return sim
    }

    @Test(arguments: [DropDecision.atDelivery, .atSend])
    func sameSeedGivesTheSameTrace(decision: DropDecision) {
        let first = Self.workload(seed: 42, decision: decision)
        let second = Self.workload(seed: 42, decision: decision)
        #expect(first.trace.count > 200)
        #expect(first.traceText == second.traceText)
        #expect(first.messagesSentByKind == second.messagesSentByKind)
    }

    @Test func differentSeedsGiveDifferentTraces() {
        let first = Self.workload(seed: 42, decision: .atDelivery)
        let second = Self.workload(seed: 43, decision: .atDelivery)
        #expect(first.traceText != second.traceText)
    }

    @Test func theHarnessNetworkIsTheSameForEverySeed() {
        func run(seed: UInt64) -> String {
            let sim = echoSimulation(nodes: 3, seed: seed)
            sim.sendOps(5, from: "node01", to: "node03")
            sim.send(ClientRequest(type: "PING", body: .string(sim.address(of: "node01"))), to: "node02")
            sim.runUntilQuiet()
            return sim.traceText
        }
        #expect(run(seed: 1) == run(seed: 2))
    }

    @Test func seededRandomIsReproducible() {
        var a = SeededRandom(seed: 9)
        var b = SeededRandom(seed: 9)
        var c = SeededRandom(seed: 10)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        for _ in 0..<1000 {
            #expect((0..<7).contains(a.nextInt(below: 7)))
            let unit = a.nextUnit()
            #expect(unit >= 0 && unit < 1)
        }
    }
}
