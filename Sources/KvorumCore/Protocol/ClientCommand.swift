/// What a client can ask a node (docs/protocol.md, Kvorum's additions included), typed.
///
/// Drivers that speak the seed's JSON shapes (the stdio bridge, the
/// simulator, the campaigns, the model checker) send `ClientRequest`s, which
/// the node reads with `init(seed:)`; the HTTP API builds commands directly.
/// Either way the node checks what depends on its configuration (the quorum
/// against N) itself, in one place.
public enum ClientCommand: Hashable, Sendable {
    case join(contact: Address)
    case leave
    /// Kvorum's addition: take another member, one that cannot LEAVE, out of the ring.
    case remove(member: String)
    case getMembers
    case get(key: Key, quorum: Int)
    case put(key: Key, value: Value, quorum: Int, context: VersionVector?)
    /// Kvorum's addition: a tombstone that supersedes what `context` covers.
    case delete(key: Key, quorum: Int, context: VersionVector?)
    case lookup(key: Key)
    case countRecords
    case dumpKeys
    /// Kvorum's addition: one page of the cluster's live keys, in byte order
    /// (a coverage query: docs/architecture.md, "Key listing").
    case listKeys(KeyQuery)

    /// Why a seed-shaped request could not be read.
    public struct Invalid: Error, Equatable, Sendable {
        public var reason: String
    }

    /// Reads a request in the seed's JSON shapes: the only shapes the node
    /// acts on. Only the shape is checked here; the node checks the rest.
    public init(seed request: ClientRequest) throws(Invalid) {
        switch request.type {
        case "JOIN":
            self = .join(contact: try Self.string(request.body, what: "JOIN body (an address host:port)"))
        case "LEAVE": self = .leave
        case "REMOVE":
            self = .remove(member: try Self.string(request.body, what: "REMOVE body (a member's name)"))
        case "GET_MEMBERS": self = .getMembers
        case "GET":
            let fields = try Self.object(request.body, of: "GET")
            self = .get(
                key: Key(try Self.string(fields["key"], what: "GET field 'key'")),
                quorum: try Self.quorum(fields["quorum"]))
        case "PUT":
            let fields = try Self.object(request.body, of: "PUT")
            let key = Key(try Self.string(fields["key"], what: "PUT field 'key'"))
            let value = try Self.string(fields["value"], what: "PUT field 'value'")
            self = .put(
                key: key, value: Value(text: value), quorum: try Self.quorum(fields["quorum"]),
                context: try Self.context(fields["metadata"], of: "PUT"))
        case "DELETE":
            let fields = try Self.object(request.body, of: "DELETE")
            self = .delete(
                key: Key(try Self.string(fields["key"], what: "DELETE field 'key'")),
                quorum: try Self.quorum(fields["quorum"]), context: try Self.context(fields["metadata"], of: "DELETE"))
        case "LOOKUP":
            self = .lookup(key: Key(try Self.string(request.body, what: "LOOKUP body (a key)")))
        case "COUNT_RECORDS": self = .countRecords
        case "DUMP_KEYS": self = .dumpKeys
        case "LIST_KEYS":
            let fields = try Self.object(request.body, of: "LIST_KEYS")
            let prefix = try Self.optionalString(fields["prefix"], what: "LIST_KEYS field 'prefix'")
            let after = try Self.optionalString(fields["after"], what: "LIST_KEYS field 'after'")
            var limit = KeyQuery.defaultLimit
            if let value = fields["limit"] { limit = try Self.integer(value, what: "LIST_KEYS field 'limit'") }
            self = .listKeys(KeyQuery(prefix: Key(prefix ?? ""), after: after.map { Key($0) }, limit: limit))
        default:
            throw Invalid(reason: "unknown request type '\(request.type)'")
        }
    }

    /// Why `quorum` is not a quorum for `n` replicas, or nil when it is.
    static func quorumRefusal(_ quorum: Int, n: Int) -> String? {
        guard quorum < 1 || quorum > n else { return nil }
        return "field 'quorum' must be between 1 and \(n), got \(quorum)"
    }

    private static func context(_ value: JSON?, of type: String) throws(Invalid) -> VersionVector? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?:
            do {
                return try Metadata.context(from: text)
            } catch {
                throw Invalid(reason: "\(type) field 'metadata' is not Kvorum metadata: \(error.description)")
            }
        case let other?:
            throw Invalid(reason: "\(type) field 'metadata' must be a string, got \(other.typeName)")
        }
    }

    private static func object(_ body: JSON, of type: String) throws(Invalid) -> [String: JSON] {
        guard case .object(let fields) = body else {
            throw Invalid(reason: "\(type) body must be an object, got \(body.typeName)")
        }
        return fields
    }

    private static func string(_ value: JSON?, what: String) throws(Invalid) -> String {
        guard let value else { throw Invalid(reason: "\(what) is missing") }
        guard case .string(let s) = value else {
            throw Invalid(reason: "\(what) must be a string, got \(value.typeName)")
        }
        return s
    }

    private static func quorum(_ value: JSON?) throws(Invalid) -> Int {
        guard let value else { throw Invalid(reason: "field 'quorum' is missing") }
        return try integer(value, what: "field 'quorum'")
    }

    private static func integer(_ value: JSON, what: String) throws(Invalid) -> Int {
        guard case .int(let q) = value else {
            throw Invalid(reason: "\(what) must be an integer, got \(value.typeName)")
        }
        guard let number = Int(exactly: q) else {
            throw Invalid(reason: "\(what) is out of range: \(q)")
        }
        return number
    }

    private static func optionalString(_ value: JSON?, what: String) throws(Invalid) -> String? {
        switch value {
        case nil, .null?: nil
        case let value?: try string(value, what: what)
        }
    }
}

extension ClientRequest {
    /// The seed's JSON shape of a command, the inverse of `ClientCommand(seed:)`.
    public init(_ command: ClientCommand) {
        switch command {
        case .join(let contact): self.init(type: "JOIN", body: .string(contact))
        case .leave: self.init(type: "LEAVE")
        case .remove(let member): self.init(type: "REMOVE", body: .string(member))
        case .getMembers: self.init(type: "GET_MEMBERS")
        case .get(let key, let quorum):
            self.init(type: "GET", body: ["key": .string(key.text), "quorum": .int(Int64(quorum))])
        case .put(let key, let value, let quorum, let context):
            self.init(
                type: "PUT",
                body: [
                    "key": .string(key.text), "value": .string(value.text), "quorum": .int(Int64(quorum)),
                    "metadata": context.map { .string(Metadata.encode($0)) } ?? .null,
                ])
        case .delete(let key, let quorum, let context):
            self.init(
                type: "DELETE",
                body: [
                    "key": .string(key.text), "quorum": .int(Int64(quorum)),
                    "metadata": context.map { .string(Metadata.encode($0)) } ?? .null,
                ])
        case .lookup(let key): self.init(type: "LOOKUP", body: .string(key.text))
        case .countRecords: self.init(type: "COUNT_RECORDS")
        case .dumpKeys: self.init(type: "DUMP_KEYS")
        case .listKeys(let query):
            self.init(
                type: "LIST_KEYS",
                body: [
                    "prefix": .string(query.prefix.text), "after": query.after.map { .string($0.text) } ?? .null,
                    "limit": .int(Int64(query.limit)),
                ])
        }
    }
}
