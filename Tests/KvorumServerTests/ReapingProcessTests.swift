import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// Tombstones reaped by real nodes (docs/architecture.md, "Deletes and
/// reaping"), with a one-second grace period so a test sees it happen.
@Suite(.serialized)
struct ReapingProcessTests {
    static let settings = ["--tombstone-grace", "1", "--reap-interval", "0.3"]

    /// How many versions each node stores for `key`, read from its own store.
    static func stored(_ key: String, in cluster: LocalCluster, nodes: [LocalNode]) async throws -> [Int] {
        var counts: [Int] = []
        for node in nodes { counts.append(try await node.client().localCopy(key).metadata.count) }
        return counts
    }

    /// Writes `key` on every replica and reads it back: the context to delete with.
    static func written(_ key: String, by client: KvorumClient) async throws -> String {
        _ = try await client.put(key, value: "old", w: 3)
        return try await client.get(key, r: 3).context
    }

    /// A deleted key's tombstone is stored on every replica, then reaped from
    /// every node: the key reads as absent with no tombstone left.
    @Test(.timeLimit(.minutes(1)))
    func tombstoneIsReapedFromEveryNode() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let client = cluster.nodes[0].client()
        _ = try await client.delete("gone", w: 3, context: try await Self.written("gone", by: client))
        #expect(try await client.get("gone", r: 3).tombstones == 1)
        try await cluster.waitUntil("every node reaped the tombstone", timeout: 20) {
            try await Self.stored("gone", in: cluster, nodes: cluster.nodes) == [0, 0, 0]
        }
        let after = try await cluster.nodes[1].client().get("gone", r: 3)
        #expect(!after.found && after.tombstones == 0)
    }

    /// A replica killed before the delete holds reaping back for as long as
    /// it is down (here many grace periods): the others keep the tombstone.
    /// Restarted with its old copy, it gets the tombstone and the key is then
    /// reaped everywhere; the deleted value never reads again.
    @Test(.timeLimit(.minutes(2)))
    func aReplicaThatIsDownHoldsReapingBack() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let client = cluster.nodes[0].client()
        let context = try await Self.written("held", by: client)
        let away = cluster.nodes[2]
        cluster.kill9(away)
        _ = try await client.delete("held", w: 2, context: context)
        let live = Array(cluster.nodes.prefix(2))
        // An observation window, not a wait: for 5 s (five grace periods,
        // some 16 reaping rounds) the tombstone must stay on the live nodes.
        for _ in 0..<10 {
            #expect(try await Self.stored("held", in: cluster, nodes: live) == [1, 1])
            try await Task.sleep(for: .milliseconds(500))
        }
        try await cluster.restart(away)
        try await cluster.waitUntil("every node reaped the tombstone", timeout: 30) {
            try await Self.stored("held", in: cluster, nodes: cluster.nodes) == [0, 0, 0]
        }
        for node in cluster.nodes {
            #expect(try await node.client().get("held", r: 1).values.isEmpty)
        }
    }
}
