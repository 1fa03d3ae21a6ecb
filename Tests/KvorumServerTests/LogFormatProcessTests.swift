import Foundation
import KvorumClient
import KvorumTestKit
import Testing

/// `--log-format json` on real `kvorum node` processes: every line a node
/// writes is one JSON object with `time`, `level`, `message`, `node` and
/// its facts as keys (docs/operations.md "Logs").
@Suite(.serialized)
struct LogFormatProcessTests {
    /// Three nodes log JSON. The joins are logged at node1 (the contact)
    /// with the member's name and address, and node1's view change with the
    /// members; after node3 is killed, writes make node1 suspect it, logged
    /// as a warning naming the peer. Every line of node1's log parses.
    @Test(.timeLimit(.minutes(2)))
    func jsonLinesCarryTheFacts() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: ["--log-format", "json"])
        defer { cluster.shutdown() }
        let (node1, dead) = (cluster.nodes[0], cluster.nodes[2])
        cluster.kill9(dead)
        var written = 0
        try await cluster.waitUntil("\(node1) logs that it suspects \(dead)", timeout: 20) {
            _ = try await node1.client().put("suspect-\(written)", value: "v", w: 2)
            written += 1
            return try Self.lines(of: node1).contains {
                $0["message"] as? String == "peer suspected" && $0["peer"] as? String == dead.name
            }
        }
        let lines = try Self.lines(of: node1)
        for line in lines {
            #expect(line["time"] is String && line["level"] is String && line["message"] is String, "\(line)")
            #expect(line["node"] as? String == node1.name, "\(line)")
        }
        let suspicion = try #require(lines.first { $0["message"] as? String == "peer suspected" })
        #expect(suspicion["level"] as? String == "warning")
        let joins = lines.filter { $0["message"] as? String == "join accepted" }
        #expect(
            Set(joins.compactMap { $0["member"] as? String }) == [cluster.nodes[1].name, dead.name]
                && Set(joins.compactMap { $0["address"] as? String }) == [cluster.nodes[1].peer, dead.peer])
        let views = lines.filter { $0["message"] as? String == "membership changed" }
        #expect(views.contains { ($0["members"] as? [String]) == cluster.nodes.map(\.name).sorted() }, "\(views)")
    }

    /// The node's log lines as JSON objects; the lines `LocalCluster`
    /// writes itself (`=== test: …`) are skipped.
    static func lines(of node: LocalNode) throws -> [[String: Any]] {
        let text = try String(contentsOf: node.log, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("=== test:") }.map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ClusterError(description: "not a JSON object: \(line)")
            }
            return object
        }
    }
}
