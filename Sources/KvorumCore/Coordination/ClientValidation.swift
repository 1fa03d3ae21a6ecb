/// A client request checked against SPEC §2: the only shapes the node acts on.
/// Anything else is answered with one `ERROR` and changes nothing.
enum ValidatedRequest: Equatable {
    case join(contact: Address)
    case leave
    /// Kvorum's addition: take another member, one that cannot LEAVE, out of the ring.
    case remove(member: String)
    case getMembers
    case get(key: String, quorum: Int)
    case put(key: String, value: String, quorum: Int, context: VersionVector?)
    case lookup(key: String)
    case countRecords
    case dumpKeys

    struct Invalid: Error, Equatable {
        var reason: String
    }

    static func validate(_ request: ClientRequest, replicationFactor n: Int) throws(Invalid) -> ValidatedRequest {
        switch request.type {
        case "JOIN":
            return .join(contact: try string(request.body, what: "JOIN body (an address host:port)"))
        case "LEAVE": return .leave
        case "REMOVE":
            return .remove(member: try string(request.body, what: "REMOVE body (a member's name)"))
        case "GET_MEMBERS": return .getMembers
        case "GET":
            let fields = try object(request.body, of: "GET")
            return .get(
                key: try string(fields["key"], what: "GET field 'key'"),
                quorum: try quorum(fields["quorum"], n: n))
        case "PUT":
            let fields = try object(request.body, of: "PUT")
            let key = try string(fields["key"], what: "PUT field 'key'")
            let value = try string(fields["value"], what: "PUT field 'value'")
            let q = try quorum(fields["quorum"], n: n)
            var context: VersionVector?
            switch fields["metadata"] {
            case nil, .null?: context = nil
            case .string(let text)?:
                do {
                    context = try Metadata.context(from: text)
                } catch {
                    throw Invalid(reason: "PUT field 'metadata' is not Kvorum metadata: \(error.description)")
                }
            case let other?:
                throw Invalid(reason: "PUT field 'metadata' must be a string, got \(other.typeName)")
            }
            return .put(key: key, value: value, quorum: q, context: context)
        case "LOOKUP":
            return .lookup(key: try string(request.body, what: "LOOKUP body (a key)"))
        case "COUNT_RECORDS": return .countRecords
        case "DUMP_KEYS": return .dumpKeys
        default:
            throw Invalid(reason: "unknown request type '\(request.type)'")
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

    private static func quorum(_ value: JSON?, n: Int) throws(Invalid) -> Int {
        guard let value else { throw Invalid(reason: "field 'quorum' is missing") }
        guard case .int(let q) = value else {
            throw Invalid(reason: "field 'quorum' must be an integer, got \(value.typeName)")
        }
        guard q >= 1 && q <= Int64(n) else {
            throw Invalid(reason: "field 'quorum' must be between 1 and \(n), got \(q)")
        }
        return Int(q)
    }
}
