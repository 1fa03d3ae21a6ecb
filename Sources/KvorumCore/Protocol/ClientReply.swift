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
        /// The request conflicts with the key's state (a blind write to a key
        /// at its sibling limit); it can succeed once the client resolves it.
        case conflict
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

    /// GET: the key's versions (see `ReadResult`).
    case versions(ReadResult)
    /// PUT or DELETE: stored by the quorum, with the new version's metadata
    /// and the number of versions the key held at the coordinator after it.
    case written(metadata: String, siblings: Int)
    /// GET_MEMBERS: the members that are up, by name.
    case members([String])
    /// LOOKUP: the key's replicas, in preference order.
    case replicas([Replica])
    /// COUNT_RECORDS: the keys this node holds.
    case recordCount(Int)
    /// DUMP_KEYS: the keys this node holds, in byte order.
    case keys([Key])
    /// LIST_KEYS: one page of the cluster's live keys and the next page's cursor.
    case keyPage(KeyPage)
    /// REMOVE: the member was removed.
    case removed(member: String)
    /// JOIN or LEAVE, sent as a typed command: the node has started it.
    case accepted
    case failed(String, Failure)

    /// A failed reply for a request that was wrong.
    public static func refused(_ reason: String) -> ClientReply { .failed(reason, .badRequest) }
}

/// What a read returns: the live versions' values and metadata, in the same
/// order; how many of the key's versions are tombstones; and `context`, the
/// join of every version's history, tombstones included: the context of a
/// later write that supersedes them all. A key with no live version reads
/// as absent but keeps its context, so a write after a delete supersedes
/// the tombstone instead of becoming its sibling.
public struct ReadResult: Hashable, Sendable {
    public var values: [Value]
    public var metadata: [String]
    public var tombstones: Int
    public var context: VersionVector

    public init(values: [Value], metadata: [String], tombstones: Int, context: VersionVector) {
        precondition(values.count == metadata.count, "a read has one metadata per value")
        self.values = values
        self.metadata = metadata
        self.tombstones = tombstones
        self.context = context
    }

    /// The read of a merged record.
    public init(_ siblings: SiblingSet) {
        let live = siblings.versions.filter { !$0.isTombstone }
        self.init(
            values: live.compactMap(\.payload.value), metadata: live.map(\.metadata),
            tombstones: siblings.versions.count - live.count, context: siblings.context)
    }

    /// Whether the key reads as absent: no live version.
    public var isAbsent: Bool { values.isEmpty }
    /// Every version, live or tombstone.
    public var siblings: Int { values.count + tombstones }
}

extension ClientResponse {
    /// The seed's JSON shape of a reply (docs/protocol.md). A read that met
    /// tombstones (Kvorum's deletes, which the seed protocol lacks) also
    /// carries `tombstones` and the `context` that covers them.
    public init(_ reply: ClientReply) {
        switch reply {
        case .versions(let read):
            var fields: [String: JSON] = [
                "values": .array(read.values.map { .string($0.text) }),
                "metadata": .array(read.metadata.map { .string($0) }),
            ]
            if read.tombstones > 0 {
                fields["tombstones"] = .int(Int64(read.tombstones))
                fields["context"] = .string(Metadata.encode(read.context))
            }
            self.init(type: "GET_RESP", body: .object(fields))
        case .written(let metadata, let siblings):
            self.init(type: "PUT_RESP", body: .string(metadata), siblings: siblings)
        case .members(let names):
            self.init(type: "MEMBERS", body: .array(names.map { .string($0) }))
        case .replicas(let replicas):
            self.init(
                type: "LOOKUP_RESP", body: .array(replicas.map { .array([.string($0.name), .string($0.address)]) }))
        case .recordCount(let count):
            self.init(type: "COUNT_RECORDS_RESP", body: .int(Int64(count)))
        case .keys(let keys):
            self.init(type: "DUMP_KEYS_RESP", body: .array(keys.map { .string($0.text) }))
        case .keyPage(let page):
            self.init(
                type: "LIST_KEYS_RESP",
                body: [
                    "keys": .array(page.keys.map { .string($0.text) }),
                    "next": page.next.map { .string($0.text) } ?? .null,
                ])
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
            let values = try strings(response.body["values"], "GET_RESP values")
            guard values.count == metadata.count else {
                throw ClientCommand.Invalid(
                    reason: "GET_RESP has \(values.count) values but \(metadata.count) metadata")
            }
            var tombstones = 0
            var covering = metadata
            if let count = response.body["tombstones"] {
                // Present only when the read met tombstones, as the encoder
                // writes it: a zero count would smuggle in a context that no
                // version covers, which re-encoding drops.
                guard case .int(let n) = count, let value = Int(exactly: n), value > 0 else {
                    throw ClientCommand.Invalid(reason: "GET_RESP tombstones is not a positive count")
                }
                tombstones = value
                covering.append(try string(response.body["context"] ?? .null, "GET_RESP context"))
            }
            var context = VersionVector()
            for text in covering {
                do {
                    context.join(try Metadata.context(from: text))
                } catch {
                    throw ClientCommand.Invalid(
                        reason: "GET_RESP metadata '\(text)' is not metadata: \(error.description)")
                }
            }
            self = .versions(
                ReadResult(
                    values: values.map { Value(text: $0) }, metadata: metadata, tombstones: tombstones,
                    context: context))
        case "PUT_RESP":
            guard let siblings = response.siblings else {
                throw ClientCommand.Invalid(reason: "PUT_RESP does not say how many siblings the key has")
            }
            self = .written(metadata: try string(response.body, "PUT_RESP body"), siblings: siblings)
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
        case "LIST_KEYS_RESP":
            let keys = try strings(response.body["keys"], "LIST_KEYS_RESP keys").map { Key($0) }
            let next = response.body["next"] ?? .null
            self = .keyPage(
                KeyPage(keys: keys, next: next == .null ? nil : Key(try string(next, "LIST_KEYS_RESP next"))))
        case "REMOVE_RESP": self = .removed(member: try string(response.body, "REMOVE_RESP body"))
        case "ACCEPTED": self = .accepted
        case "ERROR":
            self = .failed(try string(response.body, "ERROR body"), response.failure ?? .badRequest)
        default:
            throw ClientCommand.Invalid(reason: "unknown reply type '\(response.type)'")
        }
    }
}
