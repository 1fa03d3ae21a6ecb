import Foundation
import Glibc
import KvorumClient
import KvorumServer
import KvorumTestKit
import Testing

/// Every input limit (docs/limits.md) against real nodes: each abuser is
/// refused with its documented answer while a steady writer keeps writing
/// through another node, and every write it saw acknowledged reads back.
@Suite(.serialized)
struct LimitsProcessTests {
    /// Small limits, so each is reached quickly. The idle timeout leaves a
    /// window (1 s to 5 s) in which an idle keep-alive connection can be evicted.
    static let settings = [
        "--max-connections", "64", "--request-header-timeout", "1", "--idle-timeout", "5",
        "--max-header-bytes", "4096", "--max-key-bytes", "256", "--max-frame-bytes", "2097152",
    ]

    @Test(.timeLimit(.minutes(2)))
    func everyAbuserIsRefusedWhileTheClusterServes() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let (target, writerNode, readerNode) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let writer = SteadyWriter(client: writerNode.client())

        try await Self.idleConnections(against: target, in: cluster)
        try await Self.idleConnectionsAreEvicted(on: target, in: cluster)
        try Self.slowloris(against: target)
        try Self.oversizedHeaders(against: target)
        try await Self.oversizedKeys(against: target)
        try Self.peerAbuse(against: target, in: cluster)

        #expect(try await target.client().health().status == "ok")
        let written = try await target.client().put("after-the-abuse", value: "fine", w: 2)
        #expect(try await readerNode.client().get("after-the-abuse", r: 2).metadata == [written])
        let (acknowledged, failures) = await writer.stop()
        #expect(acknowledged.count >= 10, "the writer got only \(acknowledged.count) writes through")
        #expect(failures.isEmpty, "writes through \(writerNode) failed: \(failures.prefix(5))")
        for (key, value) in acknowledged.sorted(by: { $0.key < $1.key }) {
            #expect(try await readerNode.client().get(key, r: 2).values == [value], "\(key) lost")
        }
        for node in cluster.nodes {
            #expect(cluster.isRunning(node), "\(node) exited:\n\(cluster.logTail(of: node))")
        }
    }

    /// Each listening port (HTTP, binary, peer) asks the kernel to hold
    /// `NodeLimits.listenBacklog` handshaken connections, not NIO's 128
    /// (`ss` shows the limit as a listener's Send-Q; the kernel caps it at
    /// `net.core.somaxconn`). With 128, the crowd of 2,000 connections above
    /// took 12-14 s to open: every 150-odd, a handshake was dropped and its
    /// client waited a second to send it again.
    @Test(.timeLimit(.minutes(1)))
    func listenersHoldABurstOfHandshakes() async throws {
        let binaryPort = try LoopbackPorts.allocate(1)[0]
        let cluster = try await LocalCluster.start(nodes: 1) { _ in ["--binary-listen", "127.0.0.1:\(binaryPort)"] }
        defer { cluster.shutdown() }
        let node = cluster.nodes[0]
        let cap = try String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8)
        let expected = min(
            Int(NodeLimits.listenBacklog), try #require(Int(cap.trimmingCharacters(in: .whitespacesAndNewlines))))
        for port in [node.httpPort, node.peerPort, binaryPort] {
            let listing = try ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/env"), ["ss", "-ltnH", "sport = :\(port)"], deadline: 10)
            let fields = listing.stdout.split(whereSeparator: \.isWhitespace)
            try #require(listing.status == 0 && fields.count >= 3, "ss: \(listing.stdout)\(listing.stderr)")
            #expect(Int(fields[2]) == expected, "port \(port) listens with: \(listing.stdout)")
        }
    }

    /// A keep-alive connection asking every 250 ms outlives the 2 s idle
    /// and header timeouts, as each request moves its deadline; one that
    /// stops asking is closed after its last answer. (On a machine so busy
    /// that this client itself waited past the timeout between two requests,
    /// a close proves nothing and is let pass.)
    @Test(.timeLimit(.minutes(2)))
    func busyKeepAliveConnectionsOutliveTheIdleTimeout() async throws {
        let cluster = try await LocalCluster.start(
            nodes: 1, nodeArguments: ["--idle-timeout", "2", "--request-header-timeout", "2"])
        defer { cluster.shutdown() }
        let port = cluster.nodes[0].httpPort
        let request = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        let idle = try RawConnection(port: port, timeout: 30)
        idle.send(request)
        #expect(Self.answerStatus(on: idle) == 200)
        let idleSince = ContinuousClock.now

        let busy = try RawConnection(port: port)
        var longestGap = Duration.zero
        var lastAnswer = ContinuousClock.now
        while ContinuousClock.now - idleSince < .seconds(4) {
            try await Task.sleep(for: .milliseconds(250))
            longestGap = max(longestGap, ContinuousClock.now - lastAnswer)
            let answered = busy.send(request) && Self.answerStatus(on: busy) == 200
            lastAnswer = .now
            guard answered else {
                #expect(longestGap >= .seconds(2), "closed while asking at most \(longestGap) apart")
                break
            }
        }
        let (_, closed) = idle.receiveUntilClosed()
        #expect(closed && ContinuousClock.now - idleSince < .seconds(20), "the idle connection was not closed")
    }

    /// Reads one HTTP answer (head, then a `Content-Length` body) off a
    /// keep-alive connection; its status, or nil if none came whole.
    private static func answerStatus(on connection: RawConnection) -> Int? {
        var received: [UInt8] = []
        let blank = Array("\r\n\r\n".utf8)
        while true {
            if let end = received.indices.first(where: { received[$0...].starts(with: blank) }) {
                let head = String(decoding: received[..<end], as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count >= end + blank.count + length {
                    return head.split(separator: " ").dropFirst().first.flatMap { Int($0) }
                }
            }
            let more = connection.receiveSome()
            if more.isEmpty { return nil }
            received += more
        }
    }

    /// 2,000 connections that send nothing (held by a child process,
    /// scripts/idle-connections.py): past 64 each is answered `503` with
    /// `Retry-After` and closed; the open-connection gauge stays at most 64;
    /// the node takes a real write meanwhile; once the silent ones have
    /// passed the 1 s header timeout, it has closed every one of them.
    private static func idleConnections(against node: LocalNode, in cluster: LocalCluster) async throws {
        let script = Paths.repository.appendingPathComponent("scripts/idle-connections.py")
        let holder = Task.detached {
            let result = try ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path, "\(node.httpPort)", "2000"],
                deadline: 60)
            return (status: result.status, stdout: result.stdout, stderr: result.stderr, timedOut: result.timedOut)
        }
        try await cluster.waitUntil("node1 refuses a connection at its limit", timeout: 20) {
            try metric("kvorum_http_requests_refused_total{reason=\"connections\"}", on: node) ?? 0 >= 1
        }
        // The metrics request needs a connection too: at the limit it may
        // get the 503 itself, until it can evict an idle one.
        var gauge: Double?
        try await cluster.waitUntil("node1 answers /metrics at its connection limit", timeout: 10) {
            gauge = try metric("kvorum_http_connections_open", on: node)
            return gauge != nil
        }
        let open = try #require(gauge)
        #expect(open <= 64, "\(open) connections open")
        // Until the crowd is all open, the write's connection competes with
        // it for each slot freed by the header timeout, so the wait covers
        // the opening too (about 1 s here; the script gives up at 60 s).
        try await cluster.waitUntil("node1 takes a write past the idle connections", timeout: 30) {
            (try? await node.client().put("past-the-crowd", value: "yes", w: 2)) != nil
        }
        let result = try await holder.value
        #expect(result.status == 0 && !result.timedOut, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").last.map(String.init))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let (refused, silent) = (report["refused"] as? Int ?? 0, report["silent"] as? Int ?? 0)
        let seconds = report["opened_seconds"] as? Double ?? 0
        print("2,000 idle connections to node1: \(line) (gauge \(open) while they were held)")
        #expect(refused + silent == 2000, "every connection is refused or times out: \(report)")
        // Opening 2,000 may take longer than the 1 s header timeout: admitted
        // ones time out and make room for later ones, at most 64 a second.
        #expect(refused >= 1, "no connection was refused: \(report)")
        #expect(silent <= 64 * (Int(seconds) + 2), "\(silent) admitted while opening for \(seconds) s")
    }

    /// 64 keep-alive connections that each had an answer fill the node; once
    /// they have idled a second, a new request evicts the idlest and is answered.
    private static func idleConnectionsAreEvicted(on node: LocalNode, in cluster: LocalCluster) async throws {
        try await cluster.waitUntil("node1 has closed the idle connections", timeout: 10) {
            try metric("kvorum_http_connections_open", on: node) == 1
        }
        let evictedBefore = try metric("kvorum_http_connections_evicted_total", on: node) ?? 0
        var keptAlive: [RawConnection] = []
        for _ in 0..<64 {
            let connection = try RawConnection(port: node.httpPort)
            connection.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            keptAlive.append(connection)
        }
        for connection in keptAlive {
            #expect(connection.isReadable(within: 5), "no answer on a keep-alive connection")
        }
        try await Task.sleep(for: .milliseconds(1200))
        let answer = try RawConnection.http(
            port: node.httpPort, Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        #expect(answer.status == 200, "\(answer.text.prefix(300))")
        #expect(try metric("kvorum_http_connections_evicted_total", on: node) ?? 0 > evictedBefore)
        #expect(try metric("kvorum_http_connections_open", on: node) ?? 99 <= 64)
    }

    /// A client that sends its head one byte every 200 ms is answered `408`
    /// and closed once the 1 s header timeout passes, though it never stops sending.
    private static func slowloris(against node: LocalNode) throws {
        let connection = try RawConnection(port: node.httpPort)
        let start = ContinuousClock.now
        connection.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8))
        while ContinuousClock.now - start < .seconds(5), !connection.isReadable(within: 0.2) {
            connection.send([UInt8(ascii: "a")])
        }
        let elapsed = ContinuousClock.now - start
        let (bytes, closed) = connection.receiveUntilClosed()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 408 "), "\(text.prefix(300))")
        #expect(text.contains("--request-header-timeout"), "\(text)")
        #expect(closed)
        #expect(elapsed >= .milliseconds(900) && elapsed < .milliseconds(2500), "answered after \(elapsed)")
    }

    /// A head over the 4 KiB limit is answered `431`; so is one over NIO's
    /// own 80 KiB cap, which used to be a bare `400`.
    private static func oversizedHeaders(against node: LocalNode) throws {
        for size in [5000, 200_000] {
            let request =
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: size))\r\n\r\n"
            let answer = try RawConnection.http(port: node.httpPort, Array(request.utf8))
            #expect(answer.status == 431, "a \(size)-byte header: \(answer.text.prefix(300))")
            #expect(answer.text.contains("--max-header-bytes") && answer.closed)
        }
        let fits = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fits: \(String(repeating: "a", count: 3000))\r\n"
        #expect(
            try RawConnection.http(port: node.httpPort, Array((fits + "Connection: close\r\n\r\n").utf8)).status == 200)
    }

    /// A key, a list prefix or a cursor over 256 bytes is answered `414`
    /// naming the limit; a key of exactly 256 bytes is stored.
    private static func oversizedKeys(against node: LocalNode) async throws {
        let client = node.client()
        let long = String(repeating: "k", count: 257)
        let put = await #expect(throws: KvorumClientError.self) { try await client.put(long, value: "v", w: 2) }
        #expect(put?.status == 414 && put?.message.contains("--max-key-bytes") == true, "\(String(describing: put))")
        let get = await #expect(throws: KvorumClientError.self) { try await client.get(long, r: 2) }
        #expect(get?.status == 414)
        let list = await #expect(throws: KvorumClientError.self) { try await client.keys(prefix: long) }
        #expect(list?.status == 414 && list?.message.contains("'prefix'") == true, "\(String(describing: list))")
        let cursor = await #expect(throws: KvorumClientError.self) { try await client.keys(after: long) }
        #expect(cursor?.status == 414)
        let fits = String(repeating: "k", count: 256)
        _ = try await client.put(fits, value: "v", w: 2)
        #expect(try await client.get(fits, r: 2).values == ["v"])
    }

    /// On the peer port: a hello, then a length prefix of 4 MiB (over the
    /// 2 MiB limit, under the old fixed 16 MiB) closes that connection, and a
    /// connection that says nothing is closed after the hello timeout.
    private static func peerAbuse(against node: LocalNode, in cluster: LocalCluster) throws {
        // A well-formed hello (plain TCP: this cluster runs without TLS), so
        // the frame after it is refused for its size, not for the hello.
        let oversized = try RawConnection(port: node.peerPort)
        oversized.send(PeerBytes.hello("127.0.0.1:1", name: "stranger"))
        oversized.send([0x00, 0x40, 0x00, 0x00, 1, 2, 3])
        #expect(oversized.receiveUntilClosed().closed, "node1 kept a connection with an oversized frame open")
        let silent = try RawConnection(port: node.peerPort)
        #expect(silent.receiveUntilClosed().closed, "node1 kept a silent peer connection open")
        #expect(try metric("kvorum_peer_frames_rejected_total", on: node) ?? 0 >= 1)
        #expect(try metric("kvorum_peer_connections_refused_total{reason=\"no_hello\"}", on: node) ?? 0 >= 1)
        #expect(cluster.logTail(of: node, lines: 200).contains("exceeds the limit of 2097152"))
    }

    /// A node that may have one client operation in flight: while a write
    /// waits on two frozen replicas, another request is answered `503` with
    /// `Retry-After: 1`; `/health` and `/stats` are still answered.
    @Test(.timeLimit(.minutes(1)))
    func pendingOperationsAreBounded() async throws {
        let cluster = try await LocalCluster.start(
            nodes: 3, nodeArguments: ["--max-pending-operations", "1", "--request-timeout", "3"])
        defer { cluster.shutdown() }
        let node = cluster.nodes[0]
        for frozen in cluster.nodes[1...] { cluster.signal(frozen, SIGSTOP) }
        defer { for frozen in cluster.nodes[1...] { cluster.signal(frozen, SIGCONT) } }
        let waiting = Task { try? await node.client(timeout: 10).put("waits", value: "v", w: 3) }
        try await cluster.waitUntil("node1 has an operation in flight", timeout: 5) {
            try await node.client().stats().pendingOperations ?? 0 >= 1
        }
        let refused = try RawConnection.http(
            port: node.httpPort, Array("GET /kv/other HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        #expect(refused.status == 503, "\(refused.text.prefix(300))")
        #expect(refused.text.contains("Retry-After: 1\r\n") && refused.text.contains("--max-pending-operations"))
        #expect(try await node.client().health().status == "ok")
        #expect(try Self.metric("kvorum_http_requests_refused_total{reason=\"pending_operations\"}", on: node) == 1)
        for frozen in cluster.nodes[1...] { cluster.signal(frozen, SIGCONT) }
        _ = await waiting.value
        try await cluster.waitUntil("node1 takes writes again", timeout: 10) {
            (try? await node.client().put("again", value: "v", w: 2)) != nil
        }
    }

    // MARK: - Helpers

    /// The value of one sample in the node's `/metrics` (`name` with its
    /// labels, as the text spells it); nil if the node did not answer 200.
    private static func metric(_ name: String, on node: LocalNode) throws -> Double? {
        let answer = try RawConnection.http(
            port: node.httpPort, Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        guard answer.status == 200 else { return nil }
        for line in answer.text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}

/// Writes fresh keys through one node, one after another, until stopped,
/// remembering each acknowledged value and each failure.
private final class SteadyWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var acknowledged: [String: String] = [:]
    private var failures: [String] = []
    private var task: Task<Void, Never>?

    init(client: KvorumClient) {
        task = Task {
            var index = 0
            while !lock.withLock({ stopped }) {
                let (key, value) = ("steady-\(index)", "value \(index)")
                do {
                    _ = try await client.put(key, value: value, w: 2)
                    lock.withLock { acknowledged[key] = value }
                } catch {
                    lock.withLock { failures.append("\(key): \(error)") }
                }
                index += 1
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Stops writing and waits for the write under way.
    func stop() async -> (acknowledged: [String: String], failures: [String]) {
        lock.withLock { stopped = true }
        await task?.value
        return lock.withLock { (acknowledged, failures) }
    }
}
