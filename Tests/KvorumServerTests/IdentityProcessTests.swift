import Foundation
import KvorumClient
import KvorumTestKit
import Testing

/// Node identity with real `kvorum node` processes: a second process under an
/// existing member's name is refused on both sides and takes nothing over,
/// while the genuine node still works after it moves to a new address.
@Suite(.serialized)
struct IdentityProcessTests {
    /// Three nodes; a fourth process is started as `node2` on other ports
    /// with an empty data directory, joining through node1. node1 refuses
    /// it: every node still lists node2 at its own address, the impostor
    /// answers data requests with 503 and the reason, node1 logs the
    /// refusal and the impostor logs that it was refused, and a w=3 write
    /// through node1 still reaches the genuine node2.
    @Test(.timeLimit(.minutes(2)))
    func aSecondProcessUnderAMembersNameIsRefused() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, node2) = (cluster.nodes[0], cluster.nodes[1])
        let members = cluster.nodes.map { Member(name: $0.name, address: $0.peer) }
        let impostor = try await cluster.startImpostor(of: node2, joining: node1)

        try await cluster.waitUntil("the impostor reports that it was refused", timeout: 20) {
            do {
                _ = try await impostor.client(timeout: 2).get("k")
                return false
            } catch let error as KvorumClientError {
                return error.status == 503 && error.message.contains("was refused as a member")
                    && error.message.contains("belongs to another node")
            } catch {
                return false
            }
        }
        for node in cluster.nodes {
            #expect(try await node.client().members() == members, "\(node) lists the impostor")
        }
        let written = try await node1.client().put("after-impostor", value: "v", w: 3)
        #expect(try await node2.client().localCopy("after-impostor").metadata == [written])
        let contactLog = try String(contentsOf: node1.log, encoding: .utf8)
        #expect(contactLog.contains("refusing join") && contactLog.contains("belongs to another node"))
        let impostorLog = try String(contentsOf: impostor.log, encoding: .utf8)
        #expect(impostorLog.contains("this node was refused as a member"))
    }

    /// The genuine node2, stopped and started on new ports with its data
    /// directory (so its identity), is taken back at the new address.
    @Test(.timeLimit(.minutes(2)))
    func theGenuineNodeMayMoveToANewAddress() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        _ = try await cluster.terminate(cluster.nodes[1])
        let moved = try await cluster.move(cluster.nodes[1])
        try await cluster.waitUntil("every node lists node2 at its new address", timeout: 30) {
            for node in cluster.nodes {
                guard
                    try await node.client(timeout: 2).members().contains(Member(name: moved.name, address: moved.peer))
                else { return false }
            }
            return true
        }
        let written = try await cluster.nodes[0].client().put("after-move", value: "v", w: 3)
        #expect(try await moved.client().localCopy("after-move").metadata == [written])
    }
}
