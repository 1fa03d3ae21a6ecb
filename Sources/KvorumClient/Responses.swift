import Foundation

/// An HTTP answer of a node: its status and its body, byte for byte.
public struct HTTPResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The body as the node sent it (JSON for every endpoint of the API,
    /// except a raw read: the value's bytes or a multipart body).
    public var body: Data
    /// The header fields, names lowercased; repeated fields joined with `, `.
    public var headers: [String: String]

    /// A response with the given status, body and headers.
    public init(status: Int, body: Data, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// The value of the header `name` (any case), if present.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body decoded as `type`, or a `KvorumClientError` naming what the
    /// node sent instead.
    func decode<T: Decodable>(_ type: T.Type) throws(KvorumClientError) -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            throw KvorumClientError(status: status, message: "unexpected answer from the node: \(text)")
        }
    }
}

/// The answer to a read: every sibling of the key and the causal context
/// that covers them all.
public struct ReadResult: Sendable, Equatable, Decodable {
    /// The concurrent values of the key as text (empty when it is absent);
    /// a value that is not UTF-8 is read with U+FFFD for each bad sequence
    /// (`bytes` has it exactly).
    public var values: [String]
    /// Each value's bytes, exactly.
    public var bytes: [[UInt8]]
    /// Each value's content type; nil when it was written without one.
    public var contentTypes: [String?]
    /// How many of the key's versions are tombstones (deletes not yet reaped).
    public var tombstones: Int
    /// `metadata[i]` is the context token of `values[i]`'s version; a write
    /// with it as context supersedes that sibling only.
    public var metadata: [String]
    /// One context token covering every sibling: a write with it resolves
    /// them all (empty when the key is absent).
    public var context: String
    /// Whether any replica had the key (`false` for the API's 404).
    public var found: Bool

    /// A result with the given parts: text values without content types.
    public init(values: [String], metadata: [String], context: String, found: Bool) {
        self.values = values
        self.bytes = values.map { Array($0.utf8) }
        self.contentTypes = values.map { _ in nil }
        self.tombstones = 0
        self.metadata = metadata
        self.context = context
        self.found = found
    }

    private enum CodingKeys: String, CodingKey { case values, base64, contentTypes, tombstones, metadata, context }

    /// Decodes the JSON body of `GET /kv/{key}`; `found` is set by the
    /// status. `base64`, `contentTypes` and `tombstones` are optional, so
    /// answers of nodes that predate binary values decode too.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let texts = try container.decode([String?].self, forKey: .values)
        if let encoded = try container.decodeIfPresent([String].self, forKey: .base64) {
            bytes = try encoded.map { text in
                guard let data = Data(base64Encoded: text), encoded.count == texts.count else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .base64, in: container, debugDescription: "not one base64 value per value")
                }
                return Array(data)
            }
        } else {
            bytes = texts.map { Array(($0 ?? "").utf8) }
        }
        values = zip(texts, bytes).map { text, bytes in text ?? String(decoding: bytes, as: UTF8.self) }
        contentTypes =
            try container.decodeIfPresent([String?].self, forKey: .contentTypes) ?? texts.map { _ in nil }
        tombstones = try container.decodeIfPresent(Int.self, forKey: .tombstones) ?? 0
        metadata = try container.decodeIfPresent([String].self, forKey: .metadata) ?? []
        context = try container.decodeIfPresent(String.self, forKey: .context) ?? ""
        found = !values.isEmpty
    }

    /// The result of a `GET /kv/{key}` answer: 200 is a found key, 404 with
    /// the read body shape an absent one; anything else is an error.
    init(_ response: HTTPResponse) throws(KvorumClientError) {
        switch response.status {
        case 200:
            self = try response.decode(ReadResult.self)
            found = true
        case 404:
            // An unknown path is a 404 too, with an error body instead.
            guard let absent = try? response.decode(ReadResult.self) else { throw KvorumClientError(response) }
            self = absent
            found = false
        default:
            throw KvorumClientError(response)
        }
    }
}

/// The body of `GET /admin/local/{key}`: one node's own copy of a key.
public struct LocalCopy: Sendable, Equatable, Decodable {
    /// The key.
    public var key: String
    /// The name of the node that answered.
    public var node: String
    /// The versions the node stores (empty when it holds nothing).
    public var values: [String]
    /// `metadata[i]` is the context token of `values[i]`'s version.
    public var metadata: [String]

    /// A copy with the given parts.
    public init(key: String, node: String, values: [String], metadata: [String]) {
        self.key = key
        self.node = node
        self.values = values
        self.metadata = metadata
    }
}

/// A cluster member as the API names it: its name and its peer address.
public struct Member: Sendable, Equatable, Codable {
    /// The node's name, e.g. `node2`.
    public var name: String
    /// The node's peer address, `host:port`.
    public var address: String

    /// A member with the given name and address.
    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }
}

/// The body of `GET /health`.
public struct Health: Sendable, Equatable, Decodable {
    /// `ok` when the node serves.
    public var status: String
    /// The node's name.
    public var name: String?
}

/// The body of `GET /ready`.
public struct Readiness: Sendable, Equatable, Decodable {
    public var ready: Bool
    /// Why the node is not ready; nil when it is.
    public var reason: String?
}

/// The body of `GET /status` (docs/http-api.md): the cluster as one node sees it.
public struct ClusterStatus: Sendable, Equatable, Codable {
    /// A member's state, as the node sees it (docs/operations.md).
    public enum State: String, Sendable, Equatable, Codable {
        case up, suspected, down, joining, leaving
    }

    public struct Member: Sendable, Equatable, Codable {
        public var name: String
        public var state: State
        public var address: String
        public var http: String?
        public var records: Int?
        public var hintsPending: Int
        public var ringShare: Double
        public var lastHeardSeconds: Double?
        public var rttMs: Double?
        public var isSelf: Bool

        private enum CodingKeys: String, CodingKey {
            case name, state, address, http, records, hintsPending, ringShare, lastHeardSeconds, rttMs
            case isSelf = "self"
        }
    }

    /// The name of the node that answered.
    public var node: String
    public var ready: Bool
    /// The node's clock, in seconds since it started.
    public var time: Double
    /// Every member, sorted by name.
    public var members: [Member]
}

/// The body of `GET /stats`: the documented counters, typed, and every field
/// the node reported (documented or not) for display.
public struct Stats: Sendable, Equatable, Decodable {
    /// The node's name.
    public var name: String?
    /// The node's peer address.
    public var address: String?
    /// Records in the node's store.
    public var records: Int?
    /// Hints waiting to be handed off.
    public var hintsPending: Int?
    /// Peers the node currently suspects.
    public var suspectedPeers: [String]?
    /// Client operations in flight at the node.
    public var pendingOperations: Int?
    /// Every field of the body, in the node's words.
    public var fields: [String: JSONValue]

    /// Decodes the typed counters where they have the documented type and
    /// keeps every field.
    public init(from decoder: any Decoder) throws {
        fields = try [String: JSONValue](from: decoder)
        name = fields["name"]?.string
        address = fields["address"]?.string
        records = fields["records"]?.int
        hintsPending = fields["hintsPending"]?.int
        suspectedPeers = fields["suspectedPeers"]?.array?.compactMap(\.string)
        pendingOperations = fields["pendingOperations"]?.int
    }
}

/// Any JSON value, for bodies whose shape the client does not fix.
public enum JSONValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes whichever JSON value is there (integers as `.int`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value as the JSON it came from.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The string, if the value is one.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, if the value is one.
    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The elements, if the value is an array.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// A compact rendering for people: strings bare, a member object as
    /// `name (address)`, other objects as `key=value` pairs, arrays
    /// comma-separated.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return value
        case .array(let values): return values.isEmpty ? "(none)" : values.map(\.description).joined(separator: ", ")
        case .object(let fields):
            if fields.count == 2, let name = fields["name"]?.string, let address = fields["address"]?.string {
                return "\(name) (\(address))"
            }
            return fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }
}
