import Foundation

/// A client of one store over one connection, used by one benchmark thread.
/// Record numbers become keys with `KeyChooser.key(_:)`.
protocol BenchDriver: AnyObject {
    /// Reads a record; throws `BenchError.notFound` if it is missing.
    func read(_ record: Int) throws
    /// Overwrites a record.
    func update(_ record: Int, value: [UInt8]) throws
    /// Reads a record, then writes `value` with what the read returned.
    func readModifyWrite(_ record: Int, value: [UInt8]) throws
}

/// A driver of Kvorum (over HTTP or the binary protocol): a read learns the
/// record's context, and an update carries the last context known for it, so
/// updates supersede what was read instead of making siblings.
protocol KvorumContextDriver: BenchDriver {
    /// The contexts the drivers of one run learned, by record.
    var contexts: ContextTable { get }
    /// Reads `record`, notes its context in `contexts` and returns it.
    @discardableResult
    func get(_ record: Int) throws -> String
    /// Writes `value` to `record` with `context`, noting the new one.
    func put(_ record: Int, value: [UInt8], context: String?) throws
}

extension KvorumContextDriver {
    func read(_ record: Int) throws { try get(record) }

    func update(_ record: Int, value: [UInt8]) throws {
        try put(record, value: value, context: contexts[record])
    }

    func readModifyWrite(_ record: Int, value: [UInt8]) throws {
        try put(record, value: value, context: try get(record))
    }
}

/// One keep-alive connection that is opened on first use and dropped after
/// a transport failure, so the next operation reconnects.
public final class Connection {
    /// Where it connects.
    public let endpoint: Endpoint
    private let timeout: Double
    private let security: ClientSecurity
    private var socket: BufferedTransport?
    /// Runs on each new socket before its first exchange (e.g. the binary
    /// protocol's `auth` frame).
    var onConnect: ((BufferedTransport) throws -> Void)?

    /// A connection to `endpoint` whose reads and writes time out after
    /// `timeout` seconds, over the transport and with the token `security` names.
    public init(to endpoint: Endpoint, timeout: Double, security: ClientSecurity = .plain) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.security = security
    }

    /// Runs one exchange on the open (or a new) connection.
    func exchange<T>(_ body: (BufferedTransport) throws -> T) throws -> T {
        let socket: BufferedTransport
        if let open = self.socket {
            socket = open
        } else {
            socket = BufferedTransport(try security.connect(to: endpoint, timeout: timeout))
            try onConnect?(socket)
            self.socket = socket
        }
        do {
            return try body(socket)
        } catch let error as BenchError {
            switch error {
            case .status, .notFound, .server, .notReplicated: break
            default: self.socket = nil
            }
            throw error
        }
    }

    /// Sends an HTTP request and reads its response.
    public func http(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [])
        throws -> HTTPResponse
    {
        var headers = headers
        if let token = security.token { headers.append(("Authorization", "Bearer \(token)")) }
        let request = HTTP1.request(
            method: method, path: path, host: endpoint.description, headers: headers, body: body)
        let response = try exchange { socket in
            try socket.write(request)
            return try HTTP1.readResponse(from: socket)
        }
        if response.closes { socket = nil }
        return response
    }

    /// Sends RESP commands in one write (pipelined) and reads their replies.
    func redis(_ commands: [[[UInt8]]]) throws -> [RESPValue] {
        try exchange { socket in
            try socket.write(commands.flatMap(RESP.command))
            return try commands.map { _ in try RESP.read(from: socket) }
        }
    }
}

/// The latest causal context the benchmark knows for each Kvorum record
/// (from the last write or read of it by any connection), sent with the next
/// write so that updates replace the value, as a Redis SET or an etcd put
/// does, instead of piling up siblings.
final class ContextTable: @unchecked Sendable {
    private let lock = NSLock()
    private var contexts: [String?]

    /// A table of `records` empty entries.
    init(records: Int) {
        contexts = Array(repeating: nil, count: records)
    }

    /// The context of `record`, if known.
    subscript(record: Int) -> String? {
        get { lock.withLock { contexts[record] } }
        set { lock.withLock { contexts[record] = newValue } }
    }
}

/// Kvorum's HTTP API: `GET /kv/{key}?r=R`, `PUT /kv/{key}?w=W` with the
/// key's last known context in `X-Kvorum-Context`.
final class KvorumDriver: KvorumContextDriver {
    private let connection: Connection
    private let r: Int
    private let w: Int
    let contexts: ContextTable

    /// A driver of the node at `endpoint` with quorums `r` and `w`.
    init(
        endpoint: Endpoint, r: Int, w: Int, contexts: ContextTable, timeout: Double, security: ClientSecurity
    ) {
        connection = Connection(to: endpoint, timeout: timeout, security: security)
        self.r = r
        self.w = w
        self.contexts = contexts
    }

    /// Reads `record` and returns its context.
    @discardableResult
    func get(_ record: Int) throws -> String {
        // The JSON form: one answer shape whether the key has one value or siblings.
        let response = try connection.http(
            "GET", "/kv/\(KeyChooser.key(record))?r=\(r)", headers: [("Accept", "application/json")])
        switch response.status {
        case 200:
            let context = response.header("x-kvorum-context") ?? ""
            contexts[record] = context
            return context
        case 404: throw BenchError.notFound
        default: throw BenchError.status(response.status)
        }
    }

    func put(_ record: Int, value: [UInt8], context: String?) throws {
        let headers = context.map { $0.isEmpty ? [] : [("X-Kvorum-Context", $0)] } ?? []
        let response = try connection.http(
            "PUT", "/kv/\(KeyChooser.key(record))?w=\(w)", headers: headers, body: value)
        guard response.status == 200 else { throw BenchError.status(response.status) }
        guard let metadata = Self.metadata(in: response.body) else {
            throw BenchError.malformed("PUT answer without metadata")
        }
        contexts[record] = metadata
    }

    /// The `metadata` token of a PUT answer, `{"key":…,"metadata":"…"}`
    /// (a base64url token never holds quotes or escapes).
    static func metadata(in body: [UInt8]) -> String? {
        let marker = Array(#""metadata":""#.utf8)
        guard body.count > marker.count else { return nil }
        for start in 0...(body.count - marker.count) where body[start..<(start + marker.count)].elementsEqual(marker) {
            let from = start + marker.count
            guard let end = body[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return String(decoding: body[from..<end], as: UTF8.self)
        }
        return nil
    }
}

/// Redis over RESP: `GET`, `SET`, and with `wait` each `SET` pipelined with
/// `WAIT 1 1000`, which answers once one replica has the write (the
/// equivalent of a two-copy write).
final class RedisDriver: BenchDriver {
    private let connection: Connection
    private let wait: Bool

    /// A driver of the Redis server at `endpoint`.
    init(endpoint: Endpoint, wait: Bool, timeout: Double) {
        connection = Connection(to: endpoint, timeout: timeout)
        self.wait = wait
    }

    func read(_ record: Int) throws {
        let replies = try connection.redis([[Array("GET".utf8), Array(KeyChooser.key(record).utf8)]])
        switch replies[0] {
        case .bulk(.some): return
        case .bulk(nil): throw BenchError.notFound
        case .error(let message): throw BenchError.server(message)
        default: throw BenchError.malformed("GET reply")
        }
    }

    func update(_ record: Int, value: [UInt8]) throws {
        var commands = [[Array("SET".utf8), Array(KeyChooser.key(record).utf8), value]]
        if wait { commands.append([Array("WAIT".utf8), Array("1".utf8), Array("1000".utf8)]) }
        let replies = try connection.redis(commands)
        for reply in replies {
            if case .error(let message) = reply { throw BenchError.server(message) }
        }
        guard replies[0] == .simple("OK") else { throw BenchError.malformed("SET reply") }
        if wait {
            guard case .integer(let replicas) = replies[1] else { throw BenchError.malformed("WAIT reply") }
            if replicas < 1 { throw BenchError.notReplicated }
        }
    }

    func readModifyWrite(_ record: Int, value: [UInt8]) throws {
        try read(record)
        try update(record, value: value)
    }
}

/// etcd v3 through its JSON gateway: `POST /v3/kv/put` and
/// `POST /v3/kv/range` with base64 keys and values; ranges are
/// linearizable unless `serializable`.
final class EtcdDriver: BenchDriver {
    private let connection: Connection
    private let serializable: Bool
    private static let jsonHeaders = [("Content-Type", "application/json")]

    /// A driver of the etcd member at `endpoint`.
    init(endpoint: Endpoint, serializable: Bool, timeout: Double) {
        connection = Connection(to: endpoint, timeout: timeout)
        self.serializable = serializable
    }

    private static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    private func post(_ path: String, _ json: String) throws -> HTTPResponse {
        let response = try connection.http("POST", path, headers: Self.jsonHeaders, body: Array(json.utf8))
        guard response.status == 200 else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            if text.contains("\"error\"") || text.contains("\"message\"") { throw BenchError.server(text) }
            throw BenchError.status(response.status)
        }
        return response
    }

    func read(_ record: Int) throws {
        let key = Self.base64(Array(KeyChooser.key(record).utf8))
        let json = serializable ? #"{"key":"\#(key)","serializable":true}"# : #"{"key":"\#(key)"}"#
        let response = try post("/v3/kv/range", json)
        let marker = Array(#""kvs""#.utf8)
        let found =
            response.body.count >= marker.count
            && (0...(response.body.count - marker.count)).contains {
                response.body[$0..<($0 + marker.count)].elementsEqual(marker)
            }
        if !found { throw BenchError.notFound }
    }

    func update(_ record: Int, value: [UInt8]) throws {
        let key = Self.base64(Array(KeyChooser.key(record).utf8))
        _ = try post("/v3/kv/put", #"{"key":"\#(key)","value":"\#(Self.base64(value))"}"#)
    }

    func readModifyWrite(_ record: Int, value: [UInt8]) throws {
        try read(record)
        try update(record, value: value)
    }
}
