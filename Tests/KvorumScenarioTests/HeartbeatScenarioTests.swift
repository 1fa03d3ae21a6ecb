import KvorumCore
import KvorumSimulation
import Testing

/// The heartbeat (docs/operations.md, "Cluster status"): with no client
/// traffic and no other periodic exchange, a crashed member is suspected
/// and then reported down within `downAfter + heartbeatInterval` (plus a
/// message delay), up again at its first message after a restart; pings
/// stay within one per member per interval; and the report on each pong
/// reaches the status table.
@Suite("heartbeat")
struct HeartbeatScenarioTests {
    static let interval = 1.0
    static let downAfter = 5.0
    static let names = ["node01", "node02", "node03"]

    /// A node that keeps every observation its node made, in order.
    final class ObservingNode: SimulatedNode {
        let node: KvorumNode
        private(set) var observations: [(time: Double, observation: Observation)] = []

        init(_ node: KvorumNode) { self.node = node }

        func handle(_ event: Event, now: Double) -> [Effect] {
            let effects = node.handle(event, now: now)
            observations += node.observations.map { (now, $0) }
            return effects
        }
    }

    /// Three nodes with the heartbeat on and every other periodic exchange
    /// off, so pings are the only traffic while no client asks anything.
    static func cluster(heartbeat: Bool = true, nodes: [String] = names) -> Simulation {
        let sim = Simulation(seed: 7, network: NetworkConfig(delay: .uniform(0.01, 0.1))) {
            ObservingNode(KvorumNode(config: $0, storage: $1))
        }
        for name in nodes {
            sim.addNode(name: name) { config in
                config.heartbeatInterval = heartbeat ? interval : nil
                config.downAfter = downAfter
                config.antiEntropyInterval = nil
                config.viewExchangeInterval = nil
                config.httpAddress = "127.0.0.1:80\(name.suffix(2))"
            }
        }
        #expect(sim.formCluster(nodes, via: nodes[0]))
        return sim
    }

    static func observer(_ sim: Simulation, _ name: String) throws -> ObservingNode {
        try #require(sim.node(name) as? ObservingNode)
    }

    static func status(_ sim: Simulation, at name: String, of member: String) throws -> MemberStatus {
        try #require(try observer(sim, name).node.clusterStatus(at: sim.now).first { $0.name == member })
    }

    /// Runs in steps of 0.05 s until `condition` holds or `limit` seconds pass.
    /// - Returns: the time it first held, or nil.
    static func time(_ sim: Simulation, within limit: Double, until condition: () throws -> Bool) rethrows -> Double? {
        let deadline = sim.now + limit
        while sim.now < deadline {
            sim.run(for: 0.05)
            if try condition() { return sim.now }
        }
        return nil
    }

    @Test func aCrashedPeerIsReportedDownWithinTheBoundAndUpAfterRestart() throws {
        let sim = Self.cluster()
        sim.run(for: 3)
        #expect(try Self.status(sim, at: "node01", of: "node03").state == .up)
        let crashedAt = sim.now
        sim.crash("node03")
        let suspectedAt = try Self.time(sim, within: 10) {
            try Self.status(sim, at: "node01", of: "node03").state == .suspected
        }
        let downAt = try Self.time(sim, within: 10) {
            try Self.status(sim, at: "node01", of: "node03").state == .down
        }
        let suspected = try #require(suspectedAt)
        let down = try #require(downAt)
        // The last message from node03 came before the crash; one interval
        // may pass before the tick that notices, plus the last delay.
        #expect(down - crashedAt <= Self.downAfter + Self.interval + 0.1 + 0.05)
        #expect(down - crashedAt >= Self.downAfter - 2 * Self.interval)
        #expect(suspected < down)
        let seen = try Self.observer(sim, "node01").observations.filter { $0.time > crashedAt }.map(\.observation)
        #expect(seen == [.peerSuspected("node03"), .peerDown("node03")])
        #expect(try Self.status(sim, at: "node02", of: "node03").state == .down)

        sim.restart("node03")
        let upAt = try Self.time(sim, within: Self.interval * 3) {
            try Self.status(sim, at: "node01", of: "node03").state == .up
        }
        #expect(upAt != nil)
        let after = try Self.observer(sim, "node01").observations.filter { $0.time > down }.map(\.observation)
        #expect(after.contains(.peerUp("node03")) && after.contains(.peerRecovered("node03")))
        let row = try Self.status(sim, at: "node01", of: "node03")
        #expect(row.lastHeardSeconds.map { $0 < Self.interval * 2 } == true)
    }

    /// An idle cluster of five sends at most one ping per member per
    /// interval from each node, and some (liveness needs them); without a
    /// heartbeat it sends none.
    @Test(arguments: [true, false])
    func pingsAreBoundedByMembersPerInterval(heartbeat: Bool) throws {
        let names = (1...5).map { "node0\($0)" }
        let sim = Self.cluster(heartbeat: heartbeat, nodes: names)
        sim.run(for: 2)
        sim.resetCounters()
        let window = 30.0
        sim.run(for: window)
        let pings = sim.messagesSentByKind["ping", default: 0]
        if heartbeat {
            let bound = Int(Double(names.count * (names.count - 1)) * (window / Self.interval + 1))
            #expect(pings > 0 && pings <= bound, "\(pings) pings, bound \(bound)")
            #expect(sim.messagesSent == pings + sim.messagesSentByKind["pong", default: 0])
        } else {
            #expect(pings == 0)
        }
    }

    /// Peers that talk anyway need no liveness ping: under steady client
    /// traffic the only pings are the report refreshes, one per member per
    /// five intervals.
    @Test func busyPeersAreOnlyPingedForTheirReports() throws {
        let sim = Self.cluster()
        sim.run(for: 6)
        sim.resetCounters()
        let window = 20.0
        let end = sim.now + window
        var index = 0
        while sim.now < end {
            index += 1
            for name in Self.names {
                sim.send(
                    ClientRequest(type: "PUT", body: ["key": .string("k\(index)-\(name)"), "value": "v", "quorum": 2]),
                    to: name)
            }
            sim.run(for: 0.2)
        }
        #expect(sim.messagesSentByKind["writeAck", default: 0] > 0)
        let pings = sim.messagesSentByKind["ping", default: 0]
        let refreshBound = Self.names.count * (Self.names.count - 1) * (Int(window / (Self.interval * 5)) + 1)
        #expect(pings <= refreshBound, "\(pings) pings, bound \(refreshBound)")
    }

    /// The status table carries what each peer reported: its HTTP address,
    /// its record count and the hints it holds for a crashed member (four
    /// nodes, so that a stand-in takes writes for it).
    @Test func theReportReachesTheStatusTable() throws {
        let sim = Self.cluster(nodes: Self.names + ["node04"])
        sim.run(for: 2)
        sim.crash("node03")
        for index in 0..<20 {
            _ = sim.request(
                ClientRequest(type: "PUT", body: ["key": .string("key\(index)"), "value": "v", "quorum": 2]),
                at: "node02")
        }
        // Every report is refreshed within five intervals and a tick.
        sim.run(for: Self.interval * 7)
        let node02 = try Self.status(sim, at: "node01", of: "node02")
        #expect(node02.httpAddress == "127.0.0.1:8002")
        #expect(node02.records == sim.storage(of: "node02").recordCount)
        #expect(node02.lastHeardSeconds != nil && node02.roundTripSeconds != nil)
        let node03 = try Self.status(sim, at: "node01", of: "node03")
        let held = ["node01", "node02", "node04"].map {
            sim.storage(of: $0).hints().filter { $0.target == "node03" }.count
        }
        #expect(held.reduce(0, +) > 0)
        #expect(node03.hintsPending == held.reduce(0, +))
        #expect(node03.records == nil || node03.state == .down)
        let own = try Self.status(sim, at: "node01", of: "node01")
        #expect(own.isSelf && own.lastHeardSeconds == 0 && own.httpAddress == "127.0.0.1:8001")
        let shares = try Self.observer(sim, "node01").node.clusterStatus(at: sim.now).map(\.ringShare)
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
    }

    /// A node asking to join is not ready until its contact answers; then it
    /// is, until it leaves.
    @Test func aJoiningNodeIsNotReadyUntilItsContactAnswers() throws {
        let sim = Self.cluster()
        sim.addNode(name: "node04") { $0.heartbeatInterval = Self.interval }
        sim.disconnect("node04")
        sim.send(ClientRequest(type: "JOIN", body: .string(sim.address(of: "node01"))), to: "node04")
        sim.run(for: 3)
        let joining = try #require(sim.node("node04") as? ObservingNode).node
        guard case .notReady(let reason) = joining.readiness else {
            Issue.record("a node whose JOIN is unanswered is ready")
            return
        }
        #expect(reason.contains("joining"))
        #expect(joining.clusterStatus(at: sim.now).first { $0.isSelf }?.state == .joining)
        sim.connect("node04")
        sim.run(for: 3)
        #expect(joining.readiness == .ready)
        #expect(try Self.observer(sim, "node01").node.readiness == .ready)
        #expect(joining.clusterStatus(at: sim.now).first { $0.isSelf }?.state == .up)

        sim.send(ClientRequest(type: "LEAVE"), to: "node04")
        sim.run(for: 1)
        #expect(joining.readiness == .notReady(reason: "node node04 has left the ring"))
        #expect(joining.clusterStatus(at: sim.now).first { $0.isSelf }?.state == .leaving)
        #expect(try Self.observer(sim, "node01").node.clusterStatus(at: sim.now).map(\.name) == Self.names)
    }
}
