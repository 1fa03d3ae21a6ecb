/// A request of the HTTP API ready to send: the method, the request target
/// (percent-encoded path and query), the headers and the body.
struct PreparedRequest: Sendable, Equatable {
    /// `GET`, `PUT` or `POST`.
    var method: String
    /// The path and query as they go on the request line, e.g. `/kv/a%2Fb?r=2`.
    var target: String
    /// Headers besides `Host`, `Content-Length` and `Connection`.
    var headers: [Header]
    /// The body (empty for none).
    var body: [UInt8]

    /// One header line.
    struct Header: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// The value of the header `name` (case-insensitive), if present.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
