/// One endpoint of the HTTP API (docs/http-api.md) with what its path
/// carries: the request a node serves, named, after the method and the
/// request target have been checked.
public enum Route: Equatable, Sendable {
    /// `GET /kv/{key}`: a quorum read.
    case getKey(String)
    /// `PUT /kv/{key}`: a write.
    case putKey(String)
    /// `DELETE /kv/{key}`: a tombstone.
    case deleteKey(String)
    /// `GET /kv`: one page of the cluster's keys.
    case listKeys
    /// `GET /lookup/{key}`: the key's replicas.
    case lookup(String)
    /// `GET /admin/local/{key}`: this node's own copy, no quorum.
    case localCopy(String)
    /// `GET /members`.
    case members
    /// `POST /join`: join the ring through a contact.
    case join
    /// `POST /leave`: this node leaves the ring.
    case leave
    /// `POST /remove`: take a dead member out of the ring.
    case remove
    /// `GET /stats`.
    case stats
    /// `GET /metrics`: Prometheus text.
    case metrics
    /// `GET /health`: liveness (the process answers), for probes.
    case health
    /// `GET /ready`: readiness (the node can coordinate), for probes.
    case ready
    /// `GET /status`: the cluster as this node sees it.
    case status
    /// `GET /ui`: the web console, one self-contained HTML page that holds
    /// no data; its script fetches `/status` and `/metrics` with the
    /// token the operator types in (docs/operations.md#web-console).
    case console

    /// The least role a client needs for this route; nil when the route is
    /// open to everyone (`/health` and `/ready`, so probes need no
    /// credentials, and `/ui`, a page without data that asks for a token itself).
    public var requiredRole: Role? {
        switch self {
        case .health, .ready, .console: nil
        case .stats, .metrics, .members, .status: .monitor
        case .getKey, .listKeys, .lookup: .read
        case .putKey, .deleteKey: .write
        case .join, .leave, .remove, .localCopy: .admin
        }
    }

    /// The key the route names, if it names one.
    public var key: String? {
        switch self {
        case .getKey(let key), .putKey(let key), .deleteKey(let key), .lookup(let key), .localCopy(let key): key
        case .listKeys, .members, .join, .leave, .remove, .stats, .metrics, .health, .ready, .status, .console: nil
        }
    }

    /// A short name for logs and metrics labels (no key in it).
    public var name: String {
        switch self {
        case .getKey: "get"
        case .putKey: "put"
        case .deleteKey: "delete"
        case .listKeys: "list"
        case .lookup: "lookup"
        case .localCopy: "local"
        case .members: "members"
        case .join: "join"
        case .leave: "leave"
        case .remove: "remove"
        case .stats: "stats"
        case .metrics: "metrics"
        case .health: "health"
        case .ready: "ready"
        case .status: "status"
        case .console: "ui"
        }
    }
}

/// A routed request: the route, the raw path (for messages) and the
/// decoded query parameters.
public struct RoutedRequest: Equatable, Sendable {
    public var route: Route
    public var path: String
    public var query: QueryParameters

    public init(route: Route, path: String, query: QueryParameters) {
        self.route = route
        self.path = path
        self.query = query
    }
}

/// The decoded parameters of a request's query, in the order sent. Of a
/// repeated name the last one counts. A list rather than a table: a query
/// holds a few parameters, read once each, and building a table for them
/// cost more than the rest of routing.
public struct QueryParameters: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    private var pairs: [(name: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name: name, value: value) }
    }

    public var isEmpty: Bool { pairs.isEmpty }

    mutating func append(name: String, value: String) {
        pairs.append((name, value))
    }

    /// The value of the last parameter called `name`.
    public subscript(name: String) -> String? {
        pairs.last { $0.name == name }?.value
    }

    /// Equal when every name has the same value (the last one sent) in both.
    public static func == (a: QueryParameters, b: QueryParameters) -> Bool {
        a.table == b.table
    }

    private var table: [String: String] {
        Dictionary(pairs.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }
}

/// Why a request target names no route: each case is one HTTP answer.
public enum RoutingError: Error, Equatable, Sendable {
    /// 404: no endpoint has this path.
    case notFound(message: String)
    /// 405: the path exists but not for this method; `allowed` goes in `Allow`.
    case methodNotAllowed(allowed: [String], message: String)
    /// 400: the path's key is empty or not percent-encoded UTF-8.
    case badRequest(message: String)

    /// The HTTP status code.
    public var status: Int {
        switch self {
        case .notFound: 404
        case .methodNotAllowed: 405
        case .badRequest: 400
        }
    }

    public var message: String {
        switch self {
        case .notFound(let message), .methodNotAllowed(_, let message), .badRequest(let message): message
        }
    }

    /// The `Allow` header's value for a 405, nil otherwise.
    public var allow: String? {
        guard case .methodNotAllowed(let allowed, _) = self else { return nil }
        return allowed.joined(separator: ", ")
    }
}
