import Foundation
import KvorumClient
import KvorumTestKit
import Testing

/// Replacing a dead host with real `kvorum node` processes (docs/deploy.md):
/// `POST /remove` at a survivor, then a node under a new name on the dead
/// one's peer port with an empty data directory.
@Suite(.serialized)
struct RemoveProcessTests {
    /// Four nodes take w=2 writes; node4 is killed with SIGKILL for good.
    /// `POST /remove` refuses a body that is not `{"name":…}`, the node
    /// itself and an unknown name, then removes node4; node5 starts on
    /// node4's peer port with an empty data directory and joins. Every node
    /// lists node1, node2, node3 and node5 (at node4's old address), every
    /// earlier write reads back with r=3 through node5, `kvorum remove node4`
    /// now says it has already left, and `kvorum remove node2 --json` prints
    /// the node's answer.
    @Test(.timeLimit(.minutes(2)))
    func deadNodeIsRemovedAndReplacedUnderANewName() async throws {
        let cluster = try await LocalCluster.start(nodes: 4)
        defer { cluster.shutdown() }
        let (node1, node2, dead) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[3])
        var written: [String: String] = [:]
        for i in 0..<24 {
            let key = "replaced-\(i)"
            written[key] = try await cluster.nodes[i % 4].client().put(key, value: "v\(i)", w: 2)
        }
        cluster.kill9(dead)

        let bare = try RawConnection.http(
            port: node2.httpPort,
            Array("POST /remove HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnode4".utf8))
        #expect(bare.status == 400 && bare.text.contains("remove body must be"), "\(bare.text)")
        for (member, reason) in [(node2.name, "LEAVE"), ("node9", "no member named 'node9'")] {
            do {
                _ = try await node2.client().remove(name: member)
                Issue.record("removing \(member) was not refused")
            } catch {
                #expect(error.status == 400 && error.message.contains(reason), "\(error)")
            }
        }
        #expect(try await node2.client().remove(name: dead.name) == dead.name)
        try await cluster.waitUntil("the survivors list 3 members", timeout: 20) { try await cluster.everyNodeLists(3) }

        let replacement = try await cluster.startReplacement(of: dead, joining: node1)
        let expected = [node1, node2, cluster.nodes[2], replacement].map { Member(name: $0.name, address: $0.peer) }
        try await cluster.waitUntil("every node lists node1-3 and \(replacement)", timeout: 30) {
            for node in cluster.nodes where cluster.isRunning(node) {
                guard try await node.client(timeout: 2).members() == expected else { return false }
            }
            return true
        }
        #expect(replacement.peer == dead.peer)
        for (key, metadata) in written.sorted(by: { $0.key < $1.key }) {
            try await cluster.waitUntil("\(key) reads back with r=3 at \(replacement)", timeout: 20) {
                try await replacement.client().get(key, r: 3).metadata == [metadata]
            }
        }

        let again = try ChildProcess.run(
            Paths.kvorum, ["remove", dead.name, "--node", node1.httpURL.absoluteString], deadline: 20)
        #expect(again.status == 1 && again.stderr.contains("already left"), "\(again.stderr)")
        let removeCLI = try ChildProcess.run(
            Paths.kvorum, ["remove", node2.name, "--node", node1.httpURL.absoluteString, "--json"], deadline: 20)
        #expect(removeCLI.status == 0 && removeCLI.stdout == "{\"removing\":\"\(node2.name)\"}\n", "\(removeCLI)")
    }
}
