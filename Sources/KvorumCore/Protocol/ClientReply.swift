/// The node's answer to one client command, typed.
///
/// `ClientResponse(_:)` renders it in the seed's JSON shapes; the HTTP API
/// renders it its own way.
public enum ClientReply: Hashable, Sendable {
    /// Why a command failed, for drivers that map errors to status codes
    /// (HTTP 400 vs 503). The seed protocol only sees `ERROR` and the text.
    public enum Failure: String, Hashable, Sendable, Codable {
        /// The request itself was wrong; repeating it cannot help.
        case badRequest
        /// The cluster could not serve it now (quorum not reached, not a
        /// member, overloaded); it may succeed later.
        case unavailable
    }

    /// One replica of a key, as LOOKUP lists it.
    public struct Replica: Hashable, Sendable {
        public var name: String
        /// Empty when the member's address is not known.
        public var address: Address

        public init(name: String, address: Address) {
            self.name = name
            self.address = address
        }
    }

    /// GET: the key's versions (none when it is absent) and their metadata,
    /// in the same order, and `context`, the join of their histories: the
    /// context of a later PUT that supersedes them all.
    case versions(values: [String], metadata: [String], context: VersionVector)
    /// PUT: stored by the quorum, with the new version's metadata.
    case written(metadata: String)
    /// GET_MEMBERS: the members that are up, by name.
    case members([String])
    /// LOOKUP: the key's replicas, in preference order.
    case replicas([Replica])
    /// COUNT_RECORDS: the keys this node holds.
    case recordCount(Int)
    /// DUMP_KEYS: the keys this node holds, in byte order.
    case keys([Key])
    /// REMOVE: the member was removed.
    case removed(member: String)
    /// JOIN or LEAVE, sent as a typed command: the node has started it.
    case accepted
    case failed(String, Failure)

    /// A failed reply for a request that was wrong.
    public static func refused(_ reason: String) -> ClientReply { .failed(reason, .badRequest) }
}

extension ClientResponse {
    /// The seed's JSON shape of a reply (docs/protocol.md).
    public init(_ reply: ClientReply) {
        switch reply {
        case .versions(let values, let metadata, _):
            self.init(
                type: "GET_RESP",
                body: ["values": .array(values.map { .string($0) }), "metadata": .array(metadata.map { .string($0) })])
        case .written(let metadata):
            self.init(type: "PUT_RESP", body: .string(metadata))
        case .members(let names):
            self.init(type: "MEMBERS", body: .array(names.map { .string($0) }))
        case .replicas(let replicas):
            self.init(
                type: "LOOKUP_RESP", body: .array(replicas.map { .array([.string($0.name), .string($0.address)]) }))
        case .recordCount(let count):
            self.init(type: "COUNT_RECORDS_RESP", body: .int(Int64(count)))
        case .keys(let keys):
            self.init(type: "DUMP_KEYS_RESP", body: .array(keys.map { .string($0.text) }))
        case .removed(let member):
            self.init(type: "REMOVE_RESP", body: .string(member))
        case .accepted:
            self.init(type: "ACCEPTED", body: .null)
        case .failed(let text, let failure):
            self.init(type: "ERROR", body: .string(text), failure: failure)
        }
    }
}

extension ClientReply {
    /// Reads a reply in the seed's JSON shapes, the inverse of
    /// `ClientResponse(_:)`. An `ERROR` without a failure kind reads as a
    /// bad request.
    public init(seed response: ClientResponse) throws(ClientCommand.Invalid) {
        func strings(_ json: JSON?, _ what: String) throws(ClientCommand.Invalid) -> [String] {
            guard case .array(let items)? = json else { throw ClientCommand.Invalid(reason: "\(what) is not a list") }
            var out: [String] = []
            for item in items {
                guard case .string(let text) = item else {
                    throw ClientCommand.Invalid(reason: "\(what) holds a \(item.typeName), not a string")
                }
                out.append(text)
            }
            return out
        }
        func string(_ json: JSON, _ what: String) throws(ClientCommand.Invalid) -> String {
            guard case .string(let text) = json else { throw ClientCommand.Invalid(reason: "\(what) is not a string") }
            return text
        }
        switch response.type {
        case "GET_RESP":
            let metadata = try strings(response.body["metadata"], "GET_RESP metadata")
            var context = VersionVector()
            for text in metadata {
                do {
                    context.join(try Metadata.context(from: text))
                } catch {
                    throw ClientCommand.Invalid(
                        reason: "GET_RESP metadata '\(text)' is not metadata: \(error.description)")
                }
            }
            self = .versions(
                values: try strings(response.body["values"], "GET_RESP values"), metadata: metadata, context: context)
        case "PUT_RESP": self = .written(metadata: try string(response.body, "PUT_RESP body"))
        case "MEMBERS": self = .members(try strings(response.body, "MEMBERS body"))
        case "LOOKUP_RESP":
            guard case .array(let pairs) = response.body else {
                throw ClientCommand.Invalid(reason: "LOOKUP_RESP body is not a list")
            }
            var replicas: [Replica] = []
            for pair in pairs {
                let fields = try strings(pair, "a LOOKUP_RESP entry")
                guard fields.count == 2 else {
                    throw ClientCommand.Invalid(reason: "a LOOKUP_RESP entry is not a [name, address] pair")
                }
                replicas.append(Replica(name: fields[0], address: fields[1]))
            }
            self = .replicas(replicas)
        case "COUNT_RECORDS_RESP":
            guard case .int(let count) = response.body, let value = Int(exactly: count) else {
                throw ClientCommand.Invalid(reason: "COUNT_RECORDS_RESP body is not an integer")
            }
            self = .recordCount(value)
        case "DUMP_KEYS_RESP": self = .keys(try strings(response.body, "DUMP_KEYS_RESP body").map { Key($0) })
        case "REMOVE_RESP": self = .removed(member: try string(response.body, "REMOVE_RESP body"))
        case "ACCEPTED": self = .accepted
        case "ERROR":
            self = .failed(try string(response.body, "ERROR body"), response.failure ?? .badRequest)
        default:
            throw ClientCommand.Invalid(reason: "unknown reply type '\(response.type)'")
        }
    }
}
