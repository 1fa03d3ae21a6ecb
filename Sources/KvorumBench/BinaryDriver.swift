import KvorumBinaryProtocol

/// Which of Kvorum's client protocols a benchmark speaks.
public enum KvorumProtocol: String, Sendable, CaseIterable {
    /// The HTTP API (docs/http-api.md), the reference.
    case http
    /// The binary protocol on its own port (docs/binary-protocol.md).
    case binary

    /// How reports name it after `kvorum`: nothing for HTTP, `+binary`.
    var label: String { self == .binary ? "+binary" : "" }
}

/// Kvorum's binary protocol: `get` with r, `put` with w and the key's last
/// known context, as `KvorumDriver` does over HTTP. With a token, each new
/// connection sends an `auth` frame first.
final class KvorumBinaryDriver: KvorumContextDriver {
    private let connection: Connection
    private let r: UInt8
    private let w: UInt8
    let contexts: ContextTable
    private var nextID: UInt32 = 1

    init(
        endpoint: Endpoint, r: Int, w: Int, contexts: ContextTable, timeout: Double, security: ClientSecurity
    ) {
        connection = Connection(to: endpoint, timeout: timeout, security: security)
        self.r = UInt8(r)
        self.w = UInt8(w)
        self.contexts = contexts
        if let token = security.token, !token.isEmpty {
            connection.onConnect = { socket in
                guard case .authenticated = try Self.exchange(.auth(token: token), id: 0, on: socket) else {
                    throw BenchError.malformed("auth answer")
                }
            }
        }
    }

    /// Writes one request frame and reads its answer (one at a time, so
    /// the answer is the request's).
    private static func exchange(_ request: Request, id: UInt32, on socket: BufferedTransport) throws -> Response {
        try socket.write(request.frame(id: id).bytes)
        let prefix = try socket.read(count: Frame.lengthBytes)
        let length = prefix.reduce(0) { $0 << 8 | Int($1) }
        guard length >= Frame.headerBytes else { throw BenchError.malformed("frame length \(length)") }
        let rest = try socket.read(count: length)
        let frame = Frame(
            opcode: rest[0], id: rest[1...4].reduce(0) { $0 << 8 | UInt32($1) }, body: Array(rest[5...]))
        guard frame.id == id else { throw BenchError.malformed("answer to request \(frame.id), not \(id)") }
        do {
            return try Response(frame)
        } catch {
            throw BenchError.malformed("answer frame: \(error)")
        }
    }

    private func send(_ request: Request) throws -> Response {
        let id = nextID
        nextID = nextID == UInt32.max ? 1 : nextID + 1
        let response = try connection.exchange { try Self.exchange(request, id: id, on: $0) }
        if case .error(let code, let message) = response {
            if code == .notFound { throw BenchError.notFound }
            throw BenchError.server("\(code): \(message)")
        }
        return response
    }

    @discardableResult
    func get(_ record: Int) throws -> String {
        guard case .values(let context, _, _, let values) = try send(.get(key: KeyChooser.key(record), r: r)) else {
            throw BenchError.malformed("get answer")
        }
        if values.isEmpty { throw BenchError.notFound }
        contexts[record] = context
        return context
    }

    func put(_ record: Int, value: [UInt8], context: String?) throws {
        let request = Request.put(
            key: KeyChooser.key(record), value: value, w: w, context: context ?? "", contentType: "")
        guard case .written(let metadata, _) = try send(request) else { throw BenchError.malformed("put answer") }
        contexts[record] = metadata
    }
}
