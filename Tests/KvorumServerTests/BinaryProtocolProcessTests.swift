import Foundation
import Glibc
import KvorumBinaryProtocol
import KvorumClient
import KvorumRouting
import KvorumTestKit
import Testing

@testable import KvorumServer

/// The binary client protocol (docs/binary-protocol.md) against real
/// nodes: it answers as the HTTP API does (the same values, metadata,
/// contexts and failures, each API reading what the other wrote), it
/// refuses what HTTP refuses, bad frames are answered or closed while other
/// clients go on, and on a secure node it takes the same TLS and tokens.
@Suite(.serialized)
struct BinaryProtocolProcessTests {
    /// Starts `count` nodes, each with its binary protocol on a free port.
    /// A long request timeout: a loaded test machine must not turn the
    /// quorum writes these tests pipeline into timeouts.
    private static func cluster(nodes count: Int, arguments: [String] = []) async throws -> (LocalCluster, [Int]) {
        let binaryPorts = try LoopbackPorts.allocate(count)
        let settings = ["--request-timeout", "5"] + arguments
        let cluster = try await LocalCluster.start(nodes: count, nodeArguments: settings) { name in
            let index = Int(name.dropFirst("node".count))! - 1
            return ["--binary-listen", "127.0.0.1:\(binaryPorts[index])"]
        }
        return (cluster, binaryPorts)
    }

    private static func binary(_ port: Int) async throws -> KvorumBinaryClient {
        try await KvorumBinaryClient.connect(host: "127.0.0.1", port: port)
    }

    /// The error a binary request must fail with.
    private static func failure(_ request: () async throws -> Void) async throws -> KvorumBinaryClient.Failure {
        do {
            try await request()
        } catch let failure as KvorumBinaryClient.Failure {
            return failure
        }
        throw ClusterError(description: "the request succeeded")
    }

    @Test(.timeLimit(.minutes(2)))
    func binaryAndHTTPAnswerAlike() async throws {
        let (cluster, ports) = try await Self.cluster(nodes: 3, arguments: ["--max-value-bytes", "4096"])
        defer { cluster.shutdown() }
        let (http1, http2, http3) = (cluster.nodes[0].client(), cluster.nodes[1].client(), cluster.nodes[2].client())
        let binary1 = try await Self.binary(ports[0])
        let binary3 = try await Self.binary(ports[2])
        #expect(try await binary1.send(.ping) == .pong)

        // Written over one API, read over the other: values, metadata, context.
        let written = try await binary1.put("alpha", value: Array("one".utf8), w: 2, contentType: "text/plain")
        let overHTTP = try await http2.get("alpha", r: 2)
        #expect(overHTTP.values == ["one"] && overHTTP.metadata == [written.metadata])
        #expect(overHTTP.contentTypes == ["text/plain"])
        let httpWritten = try await http1.put("beta", value: "two", w: 2)
        let overBinary = try await binary3.get("beta", r: 2)
        #expect(overBinary.values.map(\.bytes) == [Array("two".utf8)])
        let betaOverHTTP = try await http3.get("beta", r: 2)
        #expect(overBinary.values.map(\.metadata) == [httpWritten])
        #expect(overBinary.values.map(\.contentType) == betaOverHTTP.contentTypes.map { $0 ?? "" })
        #expect(overBinary.context == betaOverHTTP.context)

        // A context from one API supersedes over the other: no siblings.
        _ = try await http1.put("beta", value: "three", w: 2, context: overBinary.context)
        let replaced = try await binary1.get("beta", r: 2)
        #expect(replaced.values.map(\.bytes) == [Array("three".utf8)] && replaced.siblings == 1)
        _ = try await binary1.put("beta", value: Array("four".utf8), w: 2, context: replaced.context)
        #expect(try await http2.get("beta", r: 2).values == ["four"])

        // Absent keys and deletes.
        let absent = try await binary1.get("nothing", r: 2)
        let absentOverHTTP = try await http1.get("nothing", r: 2)
        #expect(absent.values.isEmpty && !absentOverHTTP.found)
        _ = try await binary3.delete("alpha", w: 2)
        let deleted = try await http1.get("alpha", r: 2)
        #expect(!deleted.found)
        let deleteAbsent = try await Self.failure { _ = try await binary1.delete("nothing", w: 2) }
        guard case .server(.notFound, _) = deleteAbsent else { throw ClusterError(description: "\(deleteAbsent)") }

        // The same refusals, in the same words where HTTP has words.
        let badQuorumHTTP = try await Self.httpFailure { _ = try await http1.get("alpha", r: 7) }
        let badQuorum = try await Self.failure { _ = try await binary1.get("alpha", r: 7) }
        #expect(badQuorumHTTP.status == 400)
        #expect(badQuorum == .server(.badRequest, badQuorumHTTP.message))
        let damagedHTTP = try await Self.httpFailure { _ = try await http1.put("k", value: "v", context: "garbage") }
        let damaged = try await Self.failure { _ = try await binary1.put("k", value: [1], context: "garbage") }
        #expect(damaged == .server(.badRequest, damagedHTTP.message))
        let cartHTTP = try await Self.httpFailure {
            _ = try await http1.put("cart-1", bytes: [0xFF], contentType: nil)
        }
        let cart = try await Self.failure { _ = try await binary1.put("cart-1", value: [0xFF]) }
        #expect(cart == .server(.badRequest, cartHTTP.message))
        // A content type HTTP could not serve back as a header is refused, and nothing is stored.
        let injected = try await Self.failure {
            _ = try await binary1.put("typed", value: [1], contentType: "text/plain\r\nX-Injected: 1")
        }
        #expect(injected == .server(.badRequest, BinaryConnection.badContentType))
        #expect(!(try await http2.get("typed", r: 2).found))
        let longKey = String(repeating: "k", count: 1025)
        guard case .server(.keyTooLarge, _) = try await Self.failure({ _ = try await binary1.get(longKey) }) else {
            throw ClusterError(description: "a long key was not refused")
        }
        let bigValue = [UInt8](repeating: 1, count: 4097)
        guard
            case .server(.valueTooLarge, _) = try await Self.failure({
                _ = try await binary1.put("big", value: bigValue)
            })
        else { throw ClusterError(description: "a large value was not refused") }
        #expect(try await binary1.put("big", value: [UInt8](repeating: 1, count: 4096)).siblings == 1)

        // Many requests pipelined on one connection, each answered by its id.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let key = "pipelined-\(index)"
                    _ = try await binary1.put(key, value: Array("v\(index)".utf8), w: index % 2 == 0 ? 2 : 1)
                    #expect(try await binary1.get(key, r: 1).values.map(\.bytes) == [Array("v\(index)".utf8)])
                }
            }
            try await group.waitForAll()
        }
        #expect(try await http3.get("pipelined-63", r: 2).values == ["v63"])
    }

    /// Bytes that are not a request: each bad frame is answered, one whose
    /// length is out of bounds closes its connection, and another client of
    /// the node is served throughout.
    @Test(.timeLimit(.minutes(2)))
    func badFramesAreAnsweredWhileOthersAreServed() async throws {
        let (cluster, ports) = try await Self.cluster(nodes: 1)
        defer { cluster.shutdown() }
        let good = try await Self.binary(ports[0])
        _ = try await good.put("steady", value: [1], w: 1)

        let raw = try RawConnection(port: ports[0])
        var frames = FrameReader(connection: raw)
        raw.send(Frame(opcode: 0x42, id: 9, body: []).bytes)
        #expect(try frames.next() == Response.error(.unknownOpcode, message: "opcode 66 names no request").frame(id: 9))
        raw.send(Frame(opcode: Opcode.get.rawValue, id: 10, body: [1, 0, 200, 0x61]).bytes)
        let malformed = try #require(try frames.next())
        #expect(malformed.id == 10)
        guard case .error(.malformedFrame, _) = try Response(malformed) else {
            throw ClusterError(description: "\(malformed)")
        }
        // The connection goes on after a frame it could skip.
        raw.send(Request.ping.frame(id: 11).bytes)
        #expect(try frames.next() == Response.pong.frame(id: 11))
        #expect(try await good.get("steady", r: 1).values.count == 1)

        // A length past the limit: answered with request id 0, then closed.
        raw.send([0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        let tooLarge = try #require(try frames.next())
        guard tooLarge.id == 0, case .error(.frameTooLarge, let message) = try Response(tooLarge) else {
            throw ClusterError(description: "\(tooLarge)")
        }
        #expect(message.contains("larger than this node's limit"), "\(message)")
        #expect(try frames.next() == nil, "the connection stays open")

        // A length too short for opcode and id, and garbage: closed too.
        let short = try RawConnection(port: ports[0])
        short.send([0, 0, 0, 1, 0])
        var shortFrames = FrameReader(connection: short)
        guard case .error(.frameTooLarge, _) = try Response(try #require(try shortFrames.next())) else {
            throw ClusterError(description: "a short length was not refused")
        }
        #expect(try shortFrames.next() == nil)

        // The other client never noticed, and HTTP serves too.
        let steady = try await good.get("steady", r: 1)
        _ = try await good.put("steady", value: [2], w: 1, context: steady.context)
        #expect(try await good.get("steady", r: 1).values.map(\.bytes) == [[2]])
        #expect(try await cluster.nodes[0].client().health().status == "ok")
        #expect(cluster.isRunning(cluster.nodes[0]))
    }

    /// `--idle-timeout`: a connection with no byte for that long is closed;
    /// one that sends a request more often than that is kept, however long
    /// it lives (its deadline moves with every request). On a machine so
    /// busy that this client itself waited past the timeout between two
    /// requests, a close proves nothing and is let pass.
    @Test(.timeLimit(.minutes(2)))
    func idleConnectionsAreClosedAndBusyOnesKept() async throws {
        let (cluster, ports) = try await Self.cluster(nodes: 1, arguments: ["--idle-timeout", "2"])
        defer { cluster.shutdown() }
        let idle = try RawConnection(port: ports[0], timeout: 30)
        var idleFrames = FrameReader(connection: idle)
        idle.send(Request.ping.frame(id: 1).bytes)
        #expect(try idleFrames.next() == Response.pong.frame(id: 1))
        let idleSince = ContinuousClock.now

        let busy = try RawConnection(port: ports[0])
        var busyFrames = FrameReader(connection: busy)
        var longestGap = Duration.zero
        var lastAnswer = ContinuousClock.now
        var id: UInt32 = 0
        while ContinuousClock.now - idleSince < .seconds(4) {
            try await Task.sleep(for: .milliseconds(250))
            longestGap = max(longestGap, ContinuousClock.now - lastAnswer)
            id += 1
            busy.send(Request.ping.frame(id: id).bytes)
            let answered = try busyFrames.next() == Response.pong.frame(id: id)
            lastAnswer = .now
            guard answered else {
                #expect(longestGap >= .seconds(2), "closed while asking at most \(longestGap) apart")
                break
            }
        }

        // Closed by now: the read ends instead of waiting out its 30 s.
        #expect(try idleFrames.next() == nil)
        #expect(ContinuousClock.now - idleSince < .seconds(20), "the idle connection was not closed")
    }

    /// A node serving HTTPS with tokens: its binary port is TLS, refuses a
    /// request without a valid token as HTTP does (same words), and serves
    /// tokens and client certificates by their roles.
    @Test(.timeLimit(.minutes(2)))
    func aSecureNodeRefusesRequestsWithoutAValidToken() async throws {
        let node = try await SecureNode.start(binary: true)
        defer { node.stop() }
        let port = try #require(node.binaryPort)
        func connect(_ credentials: ClientCredentials) async throws -> KvorumBinaryClient {
            try await KvorumBinaryClient.connect(host: "127.0.0.1", port: port, credentials: credentials, timeout: 5)
        }

        // Plain TCP to the TLS port gets no answer.
        let plain = try await KvorumBinaryClient.connect(host: "127.0.0.1", port: port, timeout: 2)
        guard case .connection = try await Self.failure({ _ = try await plain.send(.ping) }) else {
            throw ClusterError(description: "plain TCP was answered")
        }

        // TLS without a token: refused.
        let anonymous = try await connect(ClientCredentials(caFile: node.caFile))
        let missing = try await Self.failure { _ = try await anonymous.get("k") }
        guard case .server(.authenticationRequired, _) = missing else { throw ClusterError(description: "\(missing)") }
        guard
            case .server(.authenticationRequired, _) = try await Self.failure({
                _ = try await anonymous.put("k", value: [1])
            })
        else { throw ClusterError(description: "an anonymous put was not refused") }

        // A wrong token: refused at the auth frame.
        let wrong = try await Self.failure { _ = try await connect(node.credentials(token: "kvt_wrong")) }
        #expect(wrong == .server(.invalidCredentials, "the token or client certificate is not accepted by this node"))

        // A read token writing: forbidden, in HTTP's words.
        let reader = try await connect(node.credentials(token: node.tokens[.read]!))
        let forbidden = try await Self.failure { _ = try await reader.put("k", value: [1]) }
        #expect(
            forbidden == .server(.forbidden, "this request needs the role 'write'; token 'reader' has the role 'read'"))

        // The write token writes, the read token reads, alice's certificate (admin) writes.
        let writer = try await connect(node.credentials(token: node.tokens[.write]!))
        _ = try await writer.put("k", value: Array("v1".utf8), w: 1)
        #expect(try await reader.get("k", r: 1).values.map(\.bytes) == [Array("v1".utf8)])
        let alice = try await connect(node.clientCertificate(node.certs, "alice"))
        _ = try await alice.put("k2", value: Array("from alice".utf8), w: 1)
        #expect(
            try await node.client(node.credentials(token: node.tokens[.read]!)).get("k2", r: 1).values == ["from alice"]
        )

        // The refusals are counted with HTTP's.
        let text = try await node.metricsText(token: node.tokens[.monitor]!)
        #expect(text.contains("kvorum_http_auth_refused_total{reason=\"missing\"} 2"), "\(text)")
        #expect(text.contains("kvorum_http_auth_refused_total{reason=\"unknown\"} 1"), "\(text)")
        #expect(text.contains("kvorum_http_auth_refused_total{reason=\"forbidden\"} 1"), "\(text)")
    }

    private static func httpFailure(_ request: () async throws -> Void) async throws -> KvorumClientError {
        do {
            try await request()
        } catch let error as KvorumClientError {
            return error
        }
        throw ClusterError(description: "the HTTP request succeeded")
    }
}

/// Reads whole frames off a raw connection.
struct FrameReader {
    let connection: RawConnection
    private var splitter = FrameSplitter(maxLength: 1 << 24)

    init(connection: RawConnection) { self.connection = connection }

    /// The next frame, or nil once the connection closed (or timed out).
    mutating func next() throws -> Frame? {
        while true {
            if let frame = try splitter.next() { return frame }
            let bytes = connection.receiveSome()
            if bytes.isEmpty { return nil }
            splitter.append(bytes)
        }
    }
}
