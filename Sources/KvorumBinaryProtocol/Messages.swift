/// What a frame is: requests from the client have the high bit clear,
/// answers from the node have it set.
public enum Opcode: UInt8, CaseIterable, Sendable {
    /// `token`: authenticates the connection with a bearer token.
    case auth = 0x01
    /// `r, key`: a quorum read.
    case get = 0x02
    /// `w, key, context, contentType, value`: a write.
    case put = 0x03
    /// `w, key, context`: a tombstone.
    case delete = 0x04
    /// No body: answered `pong`, to check the connection.
    case ping = 0x05

    /// `role`: the token was accepted.
    case authenticated = 0x81
    /// `context, tombstones, siblings, count × (metadata, contentType, value)`.
    case values = 0x82
    /// `metadata, siblings`: a PUT or DELETE was acknowledged.
    case written = 0x83
    /// No body.
    case pong = 0x85
    /// `code, message`.
    case error = 0xFF
}

/// Why a request failed: the code of an `error` frame. Each maps to the
/// HTTP status the same failure gets from the HTTP API.
public enum ErrorCode: UInt16, CaseIterable, Sendable {
    /// The frame's body does not decode for its opcode (HTTP 400).
    case malformedFrame = 1
    /// The opcode names no request (HTTP 404 or 405).
    case unknownOpcode = 2
    /// The frame's length is over this node's limit or below 5; the node
    /// closes the connection after this answer.
    case frameTooLarge = 3
    /// The node requires credentials and the connection has none (HTTP 401).
    case authenticationRequired = 4
    /// The token (or client certificate) is not accepted by this node (HTTP 401).
    case invalidCredentials = 5
    /// The identity's role is too low for the request (HTTP 403).
    case forbidden = 6
    /// A bad argument: a quorum out of range, a damaged context, a cart
    /// value that is not UTF-8, an empty key (HTTP 400).
    case badRequest = 7
    /// A read or a DELETE without context found no live value (HTTP 404).
    case notFound = 8
    /// The quorum was not reached, or the node cannot serve now (HTTP 503).
    case unavailable = 9
    /// A blind write past the sibling limit (HTTP 409).
    case conflict = 10
    /// The value is larger than `--max-value-bytes` (HTTP 413).
    case valueTooLarge = 11
    /// The key is longer than `--max-key-bytes` (HTTP 414).
    case keyTooLarge = 12
    /// The node has `--max-pending-operations` in flight, or
    /// `--max-connections` open (HTTP 503 with Retry-After): retry shortly.
    case overloaded = 13
    /// A fault of the node (HTTP 500).
    case `internal` = 14
}

/// A request frame's fields.
public enum Request: Equatable, Sendable {
    case auth(token: String)
    case get(key: String, r: UInt8)
    /// An empty context is a blind write; an empty content type is none.
    case put(key: String, value: [UInt8], w: UInt8, context: String, contentType: String)
    /// An empty context: the node reads the key first and deletes what it saw.
    case delete(key: String, w: UInt8, context: String)
    case ping

    public var opcode: Opcode {
        switch self {
        case .auth: .auth
        case .get: .get
        case .put: .put
        case .delete: .delete
        case .ping: .ping
        }
    }

    /// The request as the frame `id` carries it.
    public func frame(id: UInt32) -> Frame {
        var writer = ByteWriter()
        switch self {
        case .auth(let token): writer.short(token)
        case .get(let key, let r):
            writer.u8(r)
            writer.short(key)
        case .put(let key, let value, let w, let context, let contentType):
            writer.reserve(value.count + key.utf8.count + context.utf8.count + contentType.utf8.count + 11)
            writer.u8(w)
            writer.short(key)
            writer.short(context)
            writer.short(contentType)
            writer.long(value)
        case .delete(let key, let w, let context):
            writer.u8(w)
            writer.short(key)
            writer.short(context)
        case .ping: break
        }
        return Frame(opcode: opcode.rawValue, id: id, body: writer.bytes)
    }

    /// Why a request frame is not a request.
    public enum DecodingError: Error, Equatable, Sendable {
        /// The opcode is not a request's.
        case unknownOpcode(UInt8)
        /// The body does not hold the opcode's fields exactly.
        case malformed(Opcode)
    }

    /// The request a frame holds. Texts (key, token, context, content type)
    /// must be UTF-8; the body must end where the last field does.
    public init(_ frame: Frame) throws(DecodingError) {
        guard let opcode = Opcode(rawValue: frame.opcode), opcode.rawValue < 0x80 else {
            throw .unknownOpcode(frame.opcode)
        }
        var reader = ByteReader(frame.body)
        let decoded: Request?
        switch opcode {
        case .auth: decoded = reader.shortText().map { .auth(token: $0) }
        case .get:
            if let r = reader.u8(), let key = reader.shortText() {
                decoded = .get(key: key, r: r)
            } else {
                decoded = nil
            }
        case .put:
            if let w = reader.u8(), let key = reader.shortText(), let context = reader.shortText(),
                let contentType = reader.shortText(), let value = reader.long()
            {
                decoded = .put(key: key, value: value, w: w, context: context, contentType: contentType)
            } else {
                decoded = nil
            }
        case .delete:
            if let w = reader.u8(), let key = reader.shortText(), let context = reader.shortText() {
                decoded = .delete(key: key, w: w, context: context)
            } else {
                decoded = nil
            }
        case .ping: decoded = .ping
        default: decoded = nil
        }
        guard let decoded, reader.isAtEnd else { throw .malformed(opcode) }
        self = decoded
    }
}

/// One version in a `values` answer.
public struct StoredValue: Equatable, Sendable {
    /// The version's own causal metadata, as a context token.
    public var metadata: String
    /// Empty when the value was written without one.
    public var contentType: String
    public var bytes: [UInt8]

    public init(metadata: String, contentType: String, bytes: [UInt8]) {
        self.metadata = metadata
        self.contentType = contentType
        self.bytes = bytes
    }
}

/// An answer frame's fields.
public enum Response: Equatable, Sendable {
    /// The token's role; empty when the node checks no credentials.
    case authenticated(role: String)
    /// A read: the context covering every version, the tombstones among
    /// them, the sibling count and the live values (none: the key is absent).
    case values(context: String, tombstones: UInt32, siblings: UInt32, values: [StoredValue])
    /// A write's new metadata (a context token) and the key's sibling count.
    case written(metadata: String, siblings: UInt32)
    case pong
    case error(ErrorCode, message: String)

    public var opcode: Opcode {
        switch self {
        case .authenticated: .authenticated
        case .values: .values
        case .written: .written
        case .pong: .pong
        case .error: .error
        }
    }

    /// The answer as the frame `id` carries it. Texts longer than a short
    /// field holds are cut (only an error message could be).
    public func frame(id: UInt32) -> Frame {
        var writer = ByteWriter()
        switch self {
        case .authenticated(let role): writer.short(role)
        case .values(let context, let tombstones, let siblings, let values):
            writer.reserve(values.reduce(context.utf8.count + 14) { $0 + $1.bytes.count + $1.metadata.utf8.count + 8 })
            writer.short(context)
            writer.u32(tombstones)
            writer.u32(siblings)
            writer.u32(UInt32(values.count))
            for value in values {
                writer.short(value.metadata)
                writer.short(value.contentType)
                writer.long(value.bytes)
            }
        case .written(let metadata, let siblings):
            writer.short(metadata)
            writer.u32(siblings)
        case .pong: break
        case .error(let code, let message):
            writer.u16(code.rawValue)
            writer.short(Array(message.utf8.prefix(Int(UInt16.max))))
        }
        return Frame(opcode: opcode.rawValue, id: id, body: writer.bytes)
    }

    /// Why an answer frame is not an answer.
    public enum DecodingError: Error, Equatable, Sendable {
        case unknownOpcode(UInt8)
        case malformed(Opcode)
        case unknownErrorCode(UInt16)
    }

    /// The answer a frame holds.
    public init(_ frame: Frame) throws(DecodingError) {
        guard let opcode = Opcode(rawValue: frame.opcode), opcode.rawValue >= 0x80 else {
            throw .unknownOpcode(frame.opcode)
        }
        var reader = ByteReader(frame.body)
        var decoded: Response?
        switch opcode {
        case .authenticated: decoded = reader.shortText().map { .authenticated(role: $0) }
        case .values:
            if let context = reader.shortText(), let tombstones = reader.u32(), let siblings = reader.u32(),
                let count = reader.u32()
            {
                var values: [StoredValue] = []
                for _ in 0..<count {
                    guard let metadata = reader.shortText(), let contentType = reader.shortText(),
                        let bytes = reader.long()
                    else { throw .malformed(opcode) }
                    values.append(StoredValue(metadata: metadata, contentType: contentType, bytes: bytes))
                }
                decoded = .values(context: context, tombstones: tombstones, siblings: siblings, values: values)
            }
        case .written:
            if let metadata = reader.shortText(), let siblings = reader.u32() {
                decoded = .written(metadata: metadata, siblings: siblings)
            }
        case .pong: decoded = .pong
        case .error:
            if let raw = reader.u16(), let message = reader.short() {
                guard let code = ErrorCode(rawValue: raw) else { throw .unknownErrorCode(raw) }
                decoded = .error(code, message: String(decoding: message, as: UTF8.self))
            }
        default: break
        }
        guard let decoded, reader.isAtEnd else { throw .malformed(opcode) }
        self = decoded
    }
}
