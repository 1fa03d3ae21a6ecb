import Foundation
import Glibc
import KvorumClient
import KvorumTestKit
import Testing

/// HTTP/1.1 pipelining against real nodes: requests written back to back
/// on one connection, without waiting for answers, are answered completely
/// and in request order, a slow quorum write ahead of fast local errors
/// included, and the connection stays open for more.
@Suite(.serialized)
struct PipeliningProcessTests {
    /// The idle timeout is shorter than the slow write below: a connection
    /// that took a pipelined request for idle would be closed under it.
    static let settings = ["--request-timeout", "2", "--idle-timeout", "0.5"]

    @Test(.timeLimit(.minutes(2)))
    func pipelinedRequestsAreAnsweredInOrder() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let node = cluster.nodes[0]
        let connection = try RawConnection(port: node.httpPort, timeout: 10)

        let quick: [(PipelinedRequest, expected: Int, body: String?)] = [
            (.put("a", "apple"), 200, nil), (.get("a"), 200, "apple"), (.put("b", "banana"), 200, nil),
            (.get("missing"), 404, nil), (.delete("a"), 200, nil), (.get("a"), 404, nil),
            (.raw("GET /kv/%FF HTTP/1.1\r\nHost: x\r\n\r\n"), 400, nil), (.get("b"), 200, "banana"),
        ]
        try Self.exchange(quick, on: connection)

        // node3 frozen: a write that needs all three replicas waits for the
        // request timeout; the fast answers behind it wait their turn. A
        // fast request ahead of it makes the slow one a pipelined one (its
        // head reaches the handlers as the answer before it is written).
        cluster.signal(cluster.nodes[2], SIGSTOP)
        defer { cluster.signal(cluster.nodes[2], SIGCONT) }
        let slowFirst: [(PipelinedRequest, expected: Int, body: String?)] = [
            (.get("b"), 200, "banana"), (.put("slow", "tortoise", w: 3), 503, nil), (.get("missing"), 404, nil),
            (.raw("PUT /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), 404, nil),
            (.put("c", "cherry"), 200, nil), (.get("b"), 200, "banana"), (.get("c"), 200, "cherry"),
        ]
        let begin = ContinuousClock.now
        try Self.exchange(slowFirst, on: connection)
        let elapsed = ContinuousClock.now - begin
        #expect(elapsed > .seconds(1), "the w=3 write took only \(elapsed): it did not test a slow answer")

        // The same connection still serves.
        try Self.exchange([(.get("c"), 200, "cherry")], on: connection)
        #expect(cluster.isRunning(node))
    }

    /// Writes every request in one send, then reads as many answers and
    /// checks each against its request, in order.
    private static func exchange(
        _ requests: [(PipelinedRequest, expected: Int, body: String?)], on connection: RawConnection
    ) throws {
        #expect(connection.send(Array(requests.map { $0.0.text }.joined().utf8)))
        var reader = ResponseReader(connection: connection)
        for (index, (request, expected, body)) in requests.enumerated() {
            let response = try #require(
                try reader.next(), "no answer \(index + 1) (to \(request)): the connection closed or timed out")
            #expect(response.status == expected, "answer \(index + 1) (to \(request)): \(response)")
            if let body { #expect(response.bodyText == body, "answer \(index + 1) (to \(request))") }
            #expect(response.header("connection")?.lowercased() != "close", "answer \(index + 1) closes")
        }
    }
}

/// One request as bytes on the wire.
enum PipelinedRequest: CustomStringConvertible {
    case get(String)
    case put(String, String, w: Int = 2)
    case delete(String)
    case raw(String)

    var text: String {
        switch self {
        case .get(let key): "GET /kv/\(key) HTTP/1.1\r\nHost: x\r\n\r\n"
        case .put(let key, let value, let w):
            "PUT /kv/\(key)?w=\(w) HTTP/1.1\r\nHost: x\r\nContent-Length: \(value.utf8.count)\r\n\r\n\(value)"
        case .delete(let key): "DELETE /kv/\(key) HTTP/1.1\r\nHost: x\r\n\r\n"
        case .raw(let text): text
        }
    }

    var description: String { String(text.prefix { $0 != "\r" }) }
}

/// An HTTP/1.1 response read off a raw connection.
struct RawResponse: CustomStringConvertible {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    var bodyText: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    var description: String { "\(status) \(bodyText)" }
}

/// Reads responses one after another off a connection; each has a
/// `Content-Length` (the node always sends one).
struct ResponseReader {
    let connection: RawConnection
    private var buffer: [UInt8] = []

    init(connection: RawConnection) { self.connection = connection }

    /// The next complete response, or nil if the connection closed or timed out first.
    mutating func next() throws -> RawResponse? {
        while true {
            if let response = try parse() { return response }
            let more = connection.receiveSome()
            if more.isEmpty { return nil }
            buffer += more
        }
    }

    private mutating func parse() throws -> RawResponse? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = buffer.indices.first(where: { buffer[$0...].starts(with: separator) }) else { return nil }
        let lines = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw ClusterError(description: "not an HTTP response: \(lines[0])")
        }
        let headers: [(String, String)] = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = end + separator.count
        guard buffer.count >= bodyStart + length else { return nil }
        let response = RawResponse(
            status: status, headers: headers, body: Array(buffer[bodyStart..<bodyStart + length]))
        buffer.removeFirst(bodyStart + length)
        return response
    }
}
