import Foundation
import KvorumClient
import KvorumTestKit
import Testing

/// Cluster status and readiness with real `kvorum node` processes
/// (docs/operations.md): liveness without client traffic, and `/ready`
/// during a join.
@Suite(.serialized)
struct StatusProcessTests {
    /// The documented bound: the server profile's `downAfter` (5 s) plus
    /// one heartbeat interval (1 s) after the last message, with a second
    /// of slack for a busy 2-core machine and the polling.
    static let downBound = 7.0

    /// `kvorum status --json` at `node`: its exit status and the table it printed.
    static func status(at node: LocalNode) throws -> (exit: Int32, status: ClusterStatus) {
        let run = try ChildProcess.run(
            Paths.kvorum, ["status", "--json", "--node", node.httpURL.absoluteString], deadline: 20)
        let status = try JSONDecoder().decode(ClusterStatus.self, from: Data(run.stdout.utf8))
        return (run.status, status)
    }

    /// Three nodes; node3 is killed with SIGKILL and, with no client
    /// request anywhere, `kvorum status` at node1 reports it down within
    /// the bound and exits 3; restarted, it is up again and the CLI exits 0.
    /// The table and `/metrics` say the same.
    @Test(.timeLimit(.minutes(2)))
    func aKilledNodeIsDownWithoutClientTrafficAndUpAfterRestart() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, dead) = (cluster.nodes[0], cluster.nodes[2])
        try await cluster.waitUntil("node1 sees every member up with a report", timeout: 15) {
            let (exit, status) = try Self.status(at: node1)
            return exit == 0 && status.members.allSatisfy { $0.state == .up && $0.http != nil && $0.records != nil }
        }
        let (_, before) = try Self.status(at: node1)
        #expect(before.node == node1.name && before.ready && before.members.map(\.name) == ["node1", "node2", "node3"])
        #expect(before.members.first { $0.isSelf }?.name == node1.name)
        #expect(before.members.first { $0.name == dead.name }?.http == "127.0.0.1:\(dead.httpPort)")
        #expect(abs(before.members.map(\.ringShare).reduce(0, +) - 1) < 0.001)

        let killed = ContinuousClock.now
        cluster.kill9(dead)
        try await cluster.waitUntil("node1 reports \(dead) down", timeout: Self.downBound + 5) {
            try Self.status(at: node1).status.members.first { $0.name == dead.name }?.state == .down
        }
        let elapsed = ContinuousClock.now - killed
        #expect(elapsed <= .seconds(Self.downBound), "reported down after \(elapsed)")
        let (exit, down) = try Self.status(at: node1)
        #expect(exit == 3)
        #expect(down.members.first { $0.name == dead.name }.map { ($0.lastHeardSeconds ?? 0) >= 4 } == true)
        let table = try ChildProcess.run(
            Paths.kvorum, ["status", "--node", node1.httpURL.absoluteString], deadline: 20)
        #expect(table.status == 3)
        #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("down") && $0.contains(dead.name) })
        let metrics = String(decoding: try await node1.client().send(.metrics).body, as: UTF8.self)
        #expect(metrics.contains("kvorum_peer_up{peer=\"\(dead.name)\"} 0"))
        #expect(metrics.contains("kvorum_peer_up{peer=\"node2\"} 1"))
        #expect(metrics.contains("# HELP kvorum_peer_rtt_seconds"))

        try await cluster.restart(dead)
        try await cluster.waitUntil("node1 reports \(dead) up again and the CLI exits 0", timeout: 15) {
            let (exit, status) = try Self.status(at: node1)
            return exit == 0 && status.members.allSatisfy { $0.state == .up }
        }
    }

    /// A node started with `--join` to a contact that is not up yet is
    /// joining: `/ready` answers 503 with the reason (while `/health` says
    /// the process is alive) until the contact starts and answers; then 200.
    @Test(.timeLimit(.minutes(2)))
    func readyIsFalseDuringAJoinAndTrueAfter() async throws {
        let cluster = try LocalCluster.empty()
        defer { cluster.shutdown() }
        let contact = try await cluster.startExtra(joining: nil)
        try await cluster.waitUntil("\(contact) is ready", timeout: 20) { try await contact.client().ready().ready }
        _ = try await cluster.terminate(contact)
        let joiner = try await cluster.startExtra(joining: contact)
        #expect(try await joiner.client().health().status == "ok")
        let waiting = try await joiner.client().ready()
        #expect(!waiting.ready && waiting.reason?.contains("joining through \(contact.peer)") == true, "\(waiting)")
        let raw = try RawConnection.http(
            port: joiner.httpPort, Array("GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(raw.status == 503, "\(raw.text)")
        let (_, status) = try Self.status(at: joiner)
        #expect(!status.ready && status.members.first { $0.isSelf }?.state == .joining)

        try await cluster.restart(contact)
        try await cluster.waitUntil("\(joiner) is ready once its contact answers", timeout: 20) {
            try await joiner.client().ready().ready
        }
        #expect(try await contact.client().ready().ready)
    }
}
