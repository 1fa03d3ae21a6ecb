import KvorumRouting
import NIOHTTP1

/// The limits a request is held to once its head has arrived: the size of
/// the key it names (in its path, or as a list prefix or cursor) and the
/// client operations already in flight on the node.
struct RequestLimits {
    let limits: NodeLimits
    /// Client operations the node is waiting to answer.
    let inFlight: Int

    /// Endpoints that only report on the node: they are answered however
    /// many operations are in flight, so an overloaded node can be watched.
    private static let monitoring: Set<String> = ["/health", "/metrics", "/stats", "/members"]
    /// Path prefixes followed by a percent-encoded key.
    private static let keyedPaths = ["/kv/", "/lookup/", "/admin/local/"]

    /// The answer refusing a request for `target`, or nil if it is within
    /// the limits. `routing` is the target already routed, whose key, path
    /// and query it reads when routing succeeded (else it reads the target).
    func refusal(target: String, routing: Result<RoutedRequest, RoutingError>) -> HTTPAnswer? {
        var named: [(what: String, text: String)] = []
        let path: String
        let query: QueryParameters
        switch routing {
        case .success(let request):
            (path, query) = (request.path, request.query)
            if let key = request.route.key { named.append(("key", key)) }
        case .failure:
            (path, query) = RequestRouter.splitTarget(target)
            if let prefix = Self.keyedPaths.first(where: { path.utf8.starts(with: $0.utf8) }),
                let key = PercentDecoding.decode(
                    String(path[path.utf8.index(path.startIndex, offsetBy: prefix.utf8.count)...]))
            {
                named.append(("key", key))
            }
        }
        for parameter in ["prefix", "after"] {
            if let text = query[parameter] { named.append(("'\(parameter)'", text)) }
        }
        for (what, text) in named where text.utf8.count > limits.maxKeyBytes {
            LimitMetrics.shared.refused(.keyTooLarge)
            return .error(
                .uriTooLong,
                "the \(what) is \(text.utf8.count) bytes, longer than this node's limit of \(limits.maxKeyBytes) "
                    + "bytes (--max-key-bytes)")
        }
        if inFlight >= limits.maxPendingOperations, !Self.monitoring.contains(path) {
            LimitMetrics.shared.refused(.pendingOperations)
            return HTTPAnswer.error(
                .serviceUnavailable,
                "this node has \(inFlight) operations in flight, its limit (--max-pending-operations): retry shortly"
            ).adding([("Retry-After", "1")])
        }
        return nil
    }
}
