import Foundation

/// One request of the HTTP API (docs/http-api.md), before it is sent.
public enum Endpoint: Sendable, Equatable {
    /// `GET /kv/{key}?r=R`: read every sibling of a key.
    case get(key: String, r: Int?)
    /// `PUT /kv/{key}?w=W`: write a value, superseding what `context` covers
    /// (`nil` or empty: nothing, the write becomes a sibling).
    case put(key: String, value: String, w: Int?, context: String?)
    /// `PUT /kv/{key}?w=W` of any bytes, with their content type (nil: none
    /// sent; the node serves the value as `application/octet-stream`).
    case putBytes(key: String, bytes: [UInt8], contentType: String?, w: Int?, context: String?)
    /// `GET /kv/{key}?r=R` asking for the raw form: one value's bytes, or
    /// `300 Multiple Choices` with every sibling as a `multipart/mixed` part.
    case getRaw(key: String, r: Int?)
    /// `DELETE /kv/{key}?w=W`: a tombstone superseding what `context` covers
    /// (nil: what the node reads at quorum `w` first).
    case delete(key: String, w: Int?, context: String?)
    /// `GET /lookup/{key}`: the key's replicas in preference order.
    case lookup(key: String)
    /// `GET /members`: the node's view of the cluster.
    case members
    /// `POST /join`: the node joins the cluster of the node at a peer address.
    case join(address: String)
    /// `POST /leave`: the node hands its data over and leaves.
    case leave
    /// `POST /remove`: the node takes another member, one that cannot leave
    /// by itself, out of the cluster.
    case remove(name: String)
    /// `GET /stats`: the node's counters.
    case stats
    /// `GET /metrics`: the node's metrics as Prometheus text.
    case metrics
    /// `GET /health`: whether the node is serving.
    case health
    /// `GET /ready`: whether the node can coordinate (200, or 503 and why).
    case ready
    /// `GET /status`: the cluster as the node sees it.
    case status
    /// `GET /admin/local/{key}`: the versions of a key this node holds
    /// itself, read without a quorum.
    case localCopy(key: String)
    /// `GET /kv?prefix=P&after=K&limit=N`: one page of the cluster's keys
    /// (every parameter optional).
    case keys(prefix: String?, after: String?, limit: Int?)

    /// The header that carries a write's causal context.
    static let contextHeader = "X-Kvorum-Context"

    /// The method, the percent-encoded path and the query of the request.
    var target: (method: String, path: String, query: [(String, String)]) {
        switch self {
        case .get(let key, let r):
            return ("GET", "/kv/" + Self.encodePathSegment(key), r.map { [("r", String($0))] } ?? [])
        case .getRaw(let key, let r):
            return ("GET", "/kv/" + Self.encodePathSegment(key), r.map { [("r", String($0))] } ?? [])
        case .put(let key, _, let w, let context), .putBytes(let key, _, _, let w, let context):
            return ("PUT", "/kv/" + Self.encodePathSegment(key), Self.writeQuery(w: w, context: context))
        case .delete(let key, let w, let context):
            return ("DELETE", "/kv/" + Self.encodePathSegment(key), Self.writeQuery(w: w, context: context))
        case .lookup(let key): return ("GET", "/lookup/" + Self.encodePathSegment(key), [])
        case .members: return ("GET", "/members", [])
        case .join: return ("POST", "/join", [])
        case .leave: return ("POST", "/leave", [])
        case .remove: return ("POST", "/remove", [])
        case .stats: return ("GET", "/stats", [])
        case .metrics: return ("GET", "/metrics", [])
        case .health: return ("GET", "/health", [])
        case .ready: return ("GET", "/ready", [])
        case .status: return ("GET", "/status", [])
        case .localCopy(let key): return ("GET", "/admin/local/" + Self.encodePathSegment(key), [])
        case .keys(let prefix, let after, let limit):
            let query = [("prefix", prefix), ("after", after), ("limit", limit.map(String.init))]
            return ("GET", "/kv", query.compactMap { name, value in value.map { (name, $0) } })
        }
    }

    /// The full URL of the request against a node's base URL (which may
    /// carry a path prefix; a trailing slash is ignored).
    public func url(baseURL: URL) -> URL {
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        // Every byte outside the unreserved set is percent-encoded, so the
        // string is always a valid URL.
        return URL(string: text + pathAndQuery)!
    }

    /// The request to send to the node at `baseURL`.
    func request(baseURL: URL) -> PreparedRequest {
        var prefix = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        var headers = [PreparedRequest.Header(name: "Accept", value: "application/json")]
        var body: [UInt8] = []
        switch self {
        case .put(_, let value, _, let context):
            body = Array(value.utf8)
            headers.append(.init(name: "Content-Type", value: "text/plain; charset=utf-8"))
            headers += Self.contextHeaders(context)
        case .putBytes(_, let bytes, let contentType, _, let context):
            body = bytes
            if let contentType { headers.append(.init(name: "Content-Type", value: contentType)) }
            headers += Self.contextHeaders(context)
        case .delete(_, _, let context):
            headers += Self.contextHeaders(context)
        case .getRaw:
            headers = [.init(name: "Accept", value: "*/*")]
        case .join(let address):
            body = Self.jsonObject(["address": address])
            headers.append(.init(name: "Content-Type", value: "application/json"))
        case .remove(let name):
            body = Self.jsonObject(["name": name])
            headers.append(.init(name: "Content-Type", value: "application/json"))
        case .get, .lookup, .members, .leave, .stats, .metrics, .health, .ready, .status, .localCopy, .keys:
            break
        }
        return PreparedRequest(method: target.method, target: prefix + pathAndQuery, headers: headers, body: body)
    }

    /// A write's query: `w`, and the context when it cannot go in a header.
    private static func writeQuery(w: Int?, context: String?) -> [(String, String)] {
        var query = w.map { [("w", String($0))] } ?? []
        if let context, !context.isEmpty, !fitsInHeader(context) { query.append(("context", context)) }
        return query
    }

    /// A write's context header, when the context fits in one.
    private static func contextHeaders(_ context: String?) -> [PreparedRequest.Header] {
        guard let context, !context.isEmpty, fitsInHeader(context) else { return [] }
        return [.init(name: contextHeader, value: context)]
    }

    /// The percent-encoded path and query of the request.
    private var pathAndQuery: String {
        let (_, path, query) = target
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { "\($0)=\(Self.encodePathSegment($1))" }.joined(separator: "&")
    }

    private static func jsonObject(_ fields: [String: String]) -> [UInt8] {
        // Encoding a dictionary of strings cannot fail.
        Array((try? JSONEncoder().encode(fields)) ?? Data())
    }

    /// Percent-encodes every byte of the UTF-8 text except the unreserved
    /// characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`), so that `/`, `?`, `#`,
    /// `%`, spaces and non-ASCII text survive as one path segment.
    public static func encodePathSegment(_ text: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true)
                    + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return encoded
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Whether a context can travel in a header verbatim (printable ASCII);
    /// anything else goes in the `context` query parameter instead.
    private static func fitsInHeader(_ context: String) -> Bool {
        context.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
