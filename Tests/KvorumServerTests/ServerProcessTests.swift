import Foundation
import KvorumBench
import KvorumClient
import Testing

/// Real `kvorum node` processes on loopback (`LocalCluster`): replication
/// through any node, hinted handoff to a restarted replica, durability
/// across `kill -9`, JOIN and LEAVE moving data, hostile input, and a clean
/// SIGTERM shutdown.
@Suite(.serialized)
struct ServerProcessTests {
    /// Three nodes form one cluster; a write through node1 reads back through
    /// node2 and node3 with the metadata the write returned; a write with the
    /// read's context supersedes; blind concurrent writes through different
    /// nodes come back as siblings that one context resolves; /lookup,
    /// /stats, /metrics and /health answer as documented.
    @Test(.timeLimit(.minutes(1)))
    func threeNodesServeReadsAndWritesThroughAnyNode() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, node2, node3) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        for node in cluster.nodes {
            let members = try await node.client().members()
            #expect(members.map(\.name).sorted() == ["node1", "node2", "node3"])
            #expect(Set(members.map(\.address)) == Set(cluster.nodes.map(\.peer)))
        }

        let written = try await node1.client().put("greeting", value: "hello", w: 2)
        let read2 = try await node2.client().get("greeting", r: 2)
        let read3 = try await node3.client().get("greeting", r: 2)
        #expect(read2.found && read2.values == ["hello"])
        #expect(read2.metadata == [written])
        #expect(read3 == read2)

        let rewritten = try await node2.client().put("greeting", value: "hi", w: 2, context: read2.context)
        let reread = try await node3.client().get("greeting", r: 2)
        #expect(reread.values == ["hi"])
        #expect(reread.metadata == [rewritten])

        async let fromNode1 = node1.client().put("blind", value: "from node1", w: 2)
        async let fromNode3 = node3.client().put("blind", value: "from node3", w: 2)
        let blindMetadata = try await [fromNode1, fromNode3]
        let siblings = try await node2.client().get("blind", r: 2)
        #expect(siblings.values.sorted() == ["from node1", "from node3"])
        #expect(Set(siblings.metadata) == Set(blindMetadata))
        _ = try await node1.client().put("blind", value: "resolved", w: 2, context: siblings.context)
        #expect(try await node3.client().get("blind", r: 2).values == ["resolved"])

        let replicas = try await node3.client().lookup("greeting")
        #expect(replicas.count == 3)
        #expect(Set(replicas.map(\.name)) == ["node1", "node2", "node3"])
        #expect(try await node1.client().lookup("greeting") == replicas)

        try await cluster.waitUntil("every node stores both keys", timeout: 10) {
            try await Self.records(on: cluster.nodes) == [2, 2, 2]
        }
        let stats = try await node1.client().stats()
        #expect(stats.name == "node1")
        #expect(stats.address == node1.peer)
        #expect(stats.hintsPending == 0)
        #expect(stats.suspectedPeers == [])
        #expect(stats.fields["members"]?.array?.count == 3)
        let metrics = try RawConnection.http(port: node2.httpPort, Self.request("GET", "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("kvorum_records"), "\(metrics.text.prefix(2000))")
        for node in cluster.nodes {
            let health = try await node.client().health()
            #expect(health.status == "ok" && health.name == node.name)
        }
    }

    /// Sloppy quorum and hinted handoff on four nodes: with one replica of a
    /// key killed, writes through the non-replica succeed promptly (w=2, and
    /// w=3 with a stand-in's copy counting), a hint is kept for the dead
    /// replica; once it restarts every hint drains, and the replica's own
    /// copy (an r=1 read there answers from it) holds the last write.
    @Test(.timeLimit(.minutes(1)))
    func hintedHandoffReachesARestartedReplica() async throws {
        let cluster = try await LocalCluster.start(nodes: 4)
        defer { cluster.shutdown() }
        let key = "handoff"
        let replicaNames = try await cluster.nodes[0].client().lookup(key).map(\.name)
        let victim = try #require(cluster.nodes.first { $0.name == replicaNames[0] })
        let outsider = try #require(cluster.nodes.first { !replicaNames.contains($0.name) })
        let before = try await outsider.client().put(key, value: "before", w: 3)

        cluster.kill9(victim)
        let clock = ContinuousClock()
        var metadata = ""
        let elapsed = try await clock.measure {
            metadata = try await outsider.client(timeout: 10).put(key, value: "after", w: 2, context: before)
        }
        #expect(elapsed < .seconds(3), "a w=2 write with one replica dead took \(elapsed)")
        let sloppyElapsed = try await clock.measure {
            metadata = try await outsider.client(timeout: 10).put(key, value: "sloppy", w: 3, context: metadata)
        }
        #expect(sloppyElapsed < .seconds(3), "a w=3 write with one replica dead took \(sloppyElapsed)")
        try await cluster.waitUntil("a hint for \(victim) is pending", timeout: 10) {
            try await Self.hintsPending(in: cluster) > 0
        }

        try await cluster.restart(victim)
        // No reads until the hints drain: a read would repair the replica
        // itself and hide a lost hint.
        try await cluster.waitUntil("every node has handed off its hints", timeout: 30) {
            try await Self.hintsPending(in: cluster) == 0
        }
        let local = try await victim.client().get(key, r: 1)
        #expect(local.values == ["sloppy"])
        #expect(local.metadata == [metadata])
        #expect(try await victim.client().get(key, r: 3).metadata == [metadata])
    }

    /// Durability across crashes: 50 writes acknowledged with w=2, then
    /// every node in turn is killed with SIGKILL and restarted without
    /// --join; each comes back with its membership and all 50 records, and
    /// every acknowledged value reads back (r=2 through any node, r=1 at
    /// each replica).
    @Test(.timeLimit(.minutes(1)))
    func nothingAcknowledgedIsLostWhenEveryNodeCrashesInTurn() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let nodes = cluster.nodes
        var acknowledged: [(key: String, value: String, metadata: String)] = []
        for index in 0..<50 {
            let key = "durable-\(index)"
            let value = "value \(index)"
            let metadata = try await nodes[index % 3].client().put(key, value: value, w: 2)
            acknowledged.append((key, value, metadata))
        }
        try await cluster.waitUntil("every node stores all 50 keys", timeout: 10) {
            try await Self.records(on: nodes) == [50, 50, 50]
        }

        for node in nodes {
            cluster.kill9(node)
            try await cluster.restart(node)
            #expect(try await node.client().members().map(\.name).sorted() == ["node1", "node2", "node3"])
            #expect(try await node.client().stats().records == 50, "\(node) after its restart")
        }

        for (index, write) in acknowledged.enumerated() {
            for node in nodes {
                let local = try await node.client().get(write.key, r: 1)
                #expect(local.values == [write.value], "\(write.key) at \(node), r=1")
                #expect(local.metadata == [write.metadata], "\(write.key) at \(node), r=1")
            }
            let read = try await nodes[(index + 1) % 3].client().get(write.key, r: 2)
            #expect(read.values == [write.value], "\(write.key), r=2")
            #expect(read.metadata == [write.metadata], "\(write.key), r=2")
        }
    }

    /// Membership changes move data: a 4th node joining three with 30 keys
    /// becomes known to all and receives records; node2 leaving disappears
    /// from every view, the three that remain each end up with every key
    /// (all of them replicas now), every key reads back with r=3, and node2
    /// hands everything over until it holds nothing.
    @Test(.timeLimit(.minutes(1)))
    func joinAndLeaveMoveTheData() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, node2, node3) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let keys = (0..<30).map { "moving-\($0)" }
        for key in keys {
            _ = try await node1.client().put(key, value: "value of \(key)", w: 2)
        }
        try await cluster.waitUntil("every node stores all 30 keys", timeout: 10) {
            try await Self.records(on: cluster.nodes) == [30, 30, 30]
        }

        let node4 = try await cluster.startExtra(joining: node1)
        try await cluster.waitUntil("every node lists 4 members", timeout: 20) {
            try await cluster.everyNodeLists(4)
        }
        try await cluster.waitUntil("node4 received records", timeout: 20) {
            try await node4.client().stats().records ?? 0 > 0
        }

        #expect(try await node2.client().leave() == "node2")
        let remaining = [node1, node3, node4]
        try await cluster.waitUntil("node1, node3 and node4 list each other only", timeout: 20) {
            for node in remaining {
                guard try await node.client().members().map(\.name).sorted() == ["node1", "node3", "node4"] else {
                    return false
                }
            }
            return true
        }
        try await cluster.waitUntil("node1, node3 and node4 each store all 30 keys", timeout: 30) {
            try await Self.records(on: remaining) == [30, 30, 30]
        }
        for key in keys {
            let read = try await node1.client().get(key, r: 3)
            #expect(read.values == ["value of \(key)"], "\(key), r=3")
        }
        try await cluster.waitUntil("node2 has handed over every record", timeout: 30) {
            let stats = try await node2.client().stats()
            return stats.records == 0 && stats.hintsPending == 0
        }
    }

    /// Hostile bytes never bring a node down: garbage, an oversized length
    /// prefix, a first frame that is not a hello and an undecodable message
    /// on the peer port each get the connection closed; malformed HTTP gets
    /// 400 and a closed connection; bad requests get their documented
    /// status and a JSON error. Afterwards every node serves normally.
    @Test(.timeLimit(.minutes(1)))
    func badInputNeverCrashesANode() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, node2) = (cluster.nodes[0], cluster.nodes[1])

        let hello: [UInt8] = [0, 1, 0, 1] + Array("n127.0.0.1:1".utf8)
        let peerAbuse: [(String, [UInt8])] = [
            ("garbage", Array("this is not a frame at all\r\n".utf8)),
            ("a 4 GiB length prefix", [0xFF, 0xFF, 0xFF, 0xFF] + Array(repeating: 0x41, count: 64)),
            ("a length just over the 16 MiB limit", [0x01, 0x00, 0x00, 0x01, 0x01]),
            ("a first frame that is not a hello", [0, 0, 0, 3, 7, 7, 7]),
            ("a hello, then an undecodable message", Self.frame(hello) + Self.frame([1, 0xFF, 0xFF, 0xFF])),
        ]
        for (what, bytes) in peerAbuse {
            let connection = try RawConnection(port: node1.peerPort)
            connection.send(bytes)
            #expect(connection.receiveUntilClosed().closed, "node1 kept the peer connection open after \(what)")
        }
        // A frame cut short: the node waits for the rest, then sees the close.
        let truncated = try RawConnection(port: node1.peerPort)
        truncated.send([0, 0, 0, 100, 1, 2, 3])

        let malformedHTTP: [(String, [UInt8])] = [
            ("garbage", Array("GARBAGE\r\n\r\n".utf8)),
            ("a request line without a version", Array("GET /health\r\n\r\n".utf8)),
            (
                "a 200 KB header",
                Array("GET /health HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n".utf8)
            ),
        ]
        for (what, bytes) in malformedHTTP {
            let answer = try RawConnection.http(port: node2.httpPort, bytes)
            let status = what.hasSuffix("header") ? 431 : 400
            #expect(answer.status == status, "\(what): \(answer.text.prefix(300))")
            #expect(answer.closed, "node2 kept the connection open after \(what)")
        }

        let invalidUTF8: [UInt8] = [0xFF, 0xFE, 0x80]
        let badRequests: [(String, [UInt8], Int)] = [
            ("r out of range", Self.request("GET", "/kv/x?r=9"), 400),
            ("w not a number", Self.request("PUT", "/kv/x?w=two", body: Array("v".utf8)), 400),
            ("a cart value that is not UTF-8", Self.request("PUT", "/kv/cart-x", body: invalidUTF8), 400),
            (
                "a value of 1 MiB + 1",
                Self.request("PUT", "/kv/x", body: Array(repeating: 0x61, count: (1 << 20) + 1)), 413
            ),
            ("an unknown path", Self.request("GET", "/nope"), 404),
            ("PATCH on a key", Self.request("PATCH", "/kv/x"), 405),
            ("POST on /members", Self.request("POST", "/members"), 405),
            ("an absent key", Self.request("GET", "/kv/never-written"), 404),
        ]
        for (what, bytes, status) in badRequests {
            let answer = try RawConnection.http(port: node1.httpPort, bytes)
            #expect(answer.status == status, "\(what): \(answer.text.prefix(300))")
            #expect(answer.closed, "\(what): the connection stayed open despite Connection: close")
            let body = answer.text.components(separatedBy: "\r\n\r\n").dropFirst().joined()
            #expect(body.hasPrefix("{"), "\(what): the body is not JSON: \(body.prefix(300))")
        }
        #expect(try await node2.client().get("never-written", r: 2).found == false)

        for node in cluster.nodes {
            #expect(cluster.isRunning(node), "\(node) exited:\n\(cluster.logTail(of: node))")
            #expect(try await node.client().health().status == "ok")
        }
        let metadata = try await node1.client().put("still-fine", value: "yes", w: 2)
        let read = try await node2.client().get("still-fine", r: 2)
        #expect(read.values == ["yes"] && read.metadata == [metadata])
    }

    /// SIGTERM stops a node cleanly: it exits 0 within the deadline, its log
    /// says "stopped", and what it acknowledged is in its store when it
    /// comes back.
    @Test(.timeLimit(.minutes(1)))
    func sigtermStopsANodeCleanly() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let node3 = cluster.nodes[2]
        let metadata = try await node3.client().put("before-sigterm", value: "kept", w: 3)

        let status = try await cluster.terminate(node3, timeout: 10)
        #expect(status == 0)
        let log = try String(contentsOf: node3.log, encoding: .utf8)
        #expect(log.contains("shutting down"), "\(cluster.logTail(of: node3))")
        #expect(
            log.split(separator: "\n").contains { $0.contains(" info stopped node=") }, "\(cluster.logTail(of: node3))")

        try await cluster.restart(node3)
        let local = try await node3.client().get("before-sigterm", r: 1)
        #expect(local.values == ["kept"] && local.metadata == [metadata])
    }

    /// `kvorum bench` against real nodes: the load and a W run finish without
    /// errors; a second run on the loaded records (`skipLoad`) first reads
    /// every record to learn its context, so its updates replace values
    /// rather than pile up siblings, as Redis SET and etcd put do. One
    /// connection, so no two updates of a record are truly concurrent.
    @Test(.timeLimit(.minutes(1)))
    func benchUpdatesReplaceValues() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let endpoints = cluster.nodes.map { Endpoint(host: "127.0.0.1", port: $0.httpPort) }
        var configuration = BenchConfiguration(
            target: .kvorum(endpoints), workload: .w, records: 50, valueSize: 20, concurrency: 1, operations: 200,
            warmup: 0)
        let first = BenchRunner.run(configuration)
        #expect(first.loadErrors == 0 && first.errors.isEmpty && first.operations == 200)
        #expect(first.primeSeconds == nil)
        configuration.skipLoad = true
        let second = BenchRunner.run(configuration)
        #expect(second.errors.isEmpty && second.operations == 200)
        #expect(second.primeSeconds != nil)
        let client = cluster.nodes[0].client()
        for record in 0..<configuration.records {
            let read = try await client.get(KeyChooser.key(record), r: 2)
            #expect(read.values.count == 1, "record \(record): \(read.metadata)")
        }
    }

    // MARK: - Helpers

    /// Hints pending on every running node, summed.
    private static func hintsPending(in cluster: LocalCluster) async throws -> Int {
        var total = 0
        for node in cluster.nodes where cluster.isRunning(node) {
            total += try await node.client(timeout: 2).stats().hintsPending ?? 0
        }
        return total
    }

    /// The record count of each node, in order.
    private static func records(on nodes: [LocalNode]) async throws -> [Int] {
        var counts: [Int] = []
        for node in nodes { counts.append(try await node.client(timeout: 2).stats().records ?? -1) }
        return counts
    }

    /// An HTTP/1.1 request that asks the server to close after answering.
    private static func request(_ method: String, _ target: String, body: [UInt8] = []) -> [UInt8] {
        Array("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n".utf8)
            + Array("Connection: close\r\n\r\n".utf8) + body
    }

    /// A peer frame: the 4-byte big-endian length, then the payload.
    private static func frame(_ payload: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(payload.count).bigEndian, Array.init) + payload
    }
}
