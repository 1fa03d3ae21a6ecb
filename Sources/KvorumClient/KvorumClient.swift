import Foundation
import NIOSSL

/// A client of a Kvorum cluster's HTTP API (docs/http-api.md), on SwiftNIO,
/// through one node or, failing over, through the first of several that
/// can serve each request (`Failover`).
///
/// Every method sends one request over its own connection and waits at most
/// `timeout` seconds (to the nanosecond, sub-second timeouts included) for
/// the whole answer, per node asked. The wait is on the socket, so it costs
/// no CPU. Failures are `KvorumClientError`s: `status` nil when no node gave
/// an HTTP answer, else the status and the server's error text. `https`
/// URLs are verified against the credentials' CA, and the credentials'
/// client certificate and token sent (docs/security.md).
public struct KvorumClient: Sendable {
    /// The nodes' API roots, in the order they are asked, e.g.
    /// `http://127.0.0.1:8701` or `https://node1.example:8701`.
    public let nodes: [URL]
    /// Seconds to wait for each node's answer.
    public let timeout: Double
    /// The CA, client certificate and token to use.
    public let credentials: ClientCredentials

    /// The first node's API root.
    public var baseURL: URL { nodes[0] }

    /// A client of the node at `baseURL`.
    public init(baseURL: URL, timeout: Double = 5, credentials: ClientCredentials = ClientCredentials()) {
        self.init(nodes: [baseURL], timeout: timeout, credentials: credentials)
    }

    /// A client that asks `nodes` in order (at least one): a request goes
    /// to the next node when one cannot serve it and its `Repetition`
    /// allows it (see `Failover`).
    public init(nodes: [URL], timeout: Double = 5, credentials: ClientCredentials = ClientCredentials()) {
        precondition(!nodes.isEmpty, "a client needs a node")
        self.nodes = nodes
        self.timeout = timeout
        self.credentials = credentials
    }

    /// A client of the first node alone, for requests meant for one node
    /// (its own copy of a key, its counters, its joining or leaving).
    public var firstNodeOnly: KvorumClient {
        KvorumClient(nodes: [baseURL], timeout: timeout, credentials: credentials)
    }

    /// Sends one request and returns the answer as it came, as long as it
    /// is an answer the endpoint gives normally: 2xx, for `.get` and
    /// `.getRaw` also 404 with the read body (an absent key), and for
    /// `.getRaw` 300 (several siblings). With several nodes, the request
    /// goes to the next one when a node cannot serve it and the endpoint's
    /// `repetition` allows it.
    ///
    /// - Throws: `KvorumClientError` with the server's error text for any
    ///   other status, or with a nil status when no node answered.
    public func send(_ endpoint: Endpoint) async throws(KvorumClientError) -> HTTPResponse {
        try await Failover(nodes: nodes, repetition: endpoint.repetition).run { node in
            await attempt(endpoint, at: node)
        }
    }

    /// Sends the request to one node and says what came of it.
    private func attempt(_ endpoint: Endpoint, at node: URL) async -> Failover.Outcome {
        let secure = node.scheme == "https"
        guard node.scheme == "http" || secure, let host = node.host, !host.isEmpty else {
            return .refused(
                KvorumClientError(
                    status: nil, message: "\(node.absoluteString) is not an http(s)://HOST:PORT URL of a Kvorum node"))
        }
        let tls: NIOSSLContext?
        do {
            tls = if secure { try credentials.tlsContext() } else { nil }
        } catch {
            return .refused(error)
        }
        var request = endpoint.request(baseURL: node)
        request.headers += credentials.headers
        let port = node.port ?? (secure ? 443 : 80)
        let answer: HTTPResponse
        do {
            answer = try await HTTPExchange.perform(request, host: host, port: port, timeout: timeout, tls: tls)
        } catch {
            var failure = error
            if case .tls(let text) = error {
                failure = .tls(await TLSDiagnosis.explain(text, host: host, port: port, credentials: credentials))
            }
            return .failed(
                Failover.Failure(
                    kind: failure.isUndelivered ? .undelivered : .unanswered,
                    reason: KvorumClientError.reason(failure, url: node, timeout: timeout),
                    error: KvorumClientError(failure: failure, url: node, timeout: timeout)))
        }
        if answer.isSuccess { return .served(answer) }
        switch endpoint {
        case .get, .getRaw:
            if answer.status == 404, (try? answer.decode(ReadResult.self)) != nil { return .served(answer) }
            if case .getRaw = endpoint, answer.status == 300 { return .served(answer) }
        case .ready:
            if answer.status == 503, (try? answer.decode(Readiness.self)) != nil { return .served(answer) }
        default:
            break
        }
        let error = KvorumClientError(answer)
        guard answer.status == 503 else { return .refused(error) }
        return .failed(
            Failover.Failure(
                kind: answer.header("Retry-After") == nil ? .unavailable : .declined,
                reason: "HTTP 503: \(error.message)", error: error))
    }

    /// Reads `key` with read quorum `r` (the node's default when nil).
    /// An absent key is a result with `found == false`, not an error.
    public func get(_ key: String, r: Int? = nil) async throws(KvorumClientError) -> ReadResult {
        try ReadResult(await send(.get(key: key, r: r)))
    }

    /// Writes `value` under `key` with write quorum `w` (the node's default
    /// when nil). `context` is what the write supersedes, a token exactly
    /// as the API handed it out: a read's `context` (all its siblings), one
    /// sibling's `metadata`, or what an earlier `put` returned; without it
    /// the write becomes a sibling of whatever is stored. A damaged token
    /// is a 400 error and writes nothing.
    ///
    /// - Returns: the new version's context token.
    public func put(_ key: String, value: String, w: Int? = nil, context: String? = nil)
        async throws(KvorumClientError) -> String
    {
        struct Body: Decodable { var metadata: String }
        return try await send(.put(key: key, value: value, w: w, context: context)).decode(Body.self).metadata
    }

    /// Reads `key` in the raw form: every live sibling's bytes with its
    /// content type and metadata, exactly as stored (a `300` multipart
    /// answer read part by part).
    public func getRaw(_ key: String, r: Int? = nil) async throws(KvorumClientError) -> RawRead {
        try RawRead(await send(.getRaw(key: key, r: r)))
    }

    /// Writes any bytes under `key`, with their content type (nil: none;
    /// the node serves them as `application/octet-stream`). `w` and
    /// `context` as for `put(_:value:w:context:)`.
    ///
    /// - Returns: the new version's context token.
    public func put(_ key: String, bytes: [UInt8], contentType: String?, w: Int? = nil, context: String? = nil)
        async throws(KvorumClientError) -> String
    {
        struct Body: Decodable { var metadata: String }
        let endpoint = Endpoint.putBytes(key: key, bytes: bytes, contentType: contentType, w: w, context: context)
        return try await send(endpoint).decode(Body.self).metadata
    }

    /// Deletes `key`: writes a tombstone that supersedes what `context`
    /// covers (a read's context: every sibling it saw). Without a context
    /// the node reads the key at quorum `w` and deletes what it finds; a key
    /// with no live value is then a 404 error and nothing is written.
    ///
    /// - Returns: the tombstone's context token.
    public func delete(_ key: String, w: Int? = nil, context: String? = nil) async throws(KvorumClientError) -> String {
        struct Body: Decodable { var metadata: String }
        return try await send(.delete(key: key, w: w, context: context)).decode(Body.self).metadata
    }

    /// The replicas of `key` in preference order.
    public func lookup(_ key: String) async throws(KvorumClientError) -> [Member] {
        struct Body: Decodable { var replicas: [Member] }
        return try await send(.lookup(key: key)).decode(Body.self).replicas
    }

    /// The members of the cluster as the node sees them.
    public func members() async throws(KvorumClientError) -> [Member] {
        struct Body: Decodable { var members: [Member] }
        return try await send(.members).decode(Body.self).members
    }

    /// Asks the node to join the cluster of the node at the peer address
    /// `address` (`host:port`). The join completes in the background.
    public func join(address: String) async throws(KvorumClientError) {
        _ = try await send(.join(address: address))
    }

    /// Asks the node to hand its data over and leave the cluster.
    ///
    /// - Returns: the name of the leaving node.
    public func leave() async throws(KvorumClientError) -> String {
        struct Body: Decodable { var leaving: String }
        return try await send(.leave).decode(Body.self).leaving
    }

    /// Asks the node to take another member out of the cluster: one that
    /// cannot leave by itself because its host is dead. Its data is not
    /// handed over; the surviving replicas fill the new ones.
    ///
    /// - Returns: the name of the removed member.
    public func remove(name: String) async throws(KvorumClientError) -> String {
        struct Body: Decodable { var removing: String }
        return try await send(.remove(name: name)).decode(Body.self).removing
    }

    /// The node's counters.
    public func stats() async throws(KvorumClientError) -> Stats {
        try await send(.stats).decode(Stats.self)
    }

    /// The versions of `key` the node holds itself, read from its store
    /// alone (no quorum, no other replica asked).
    public func localCopy(_ key: String) async throws(KvorumClientError) -> LocalCopy {
        try await send(.localCopy(key: key)).decode(LocalCopy.self)
    }

    /// Whether the node can coordinate requests (`/ready`): a node that
    /// answers 503 is not ready, and says why.
    public func ready() async throws(KvorumClientError) -> Readiness {
        try await send(.ready).decode(Readiness.self)
    }

    /// The cluster as the node sees it (`/status`).
    public func status() async throws(KvorumClientError) -> ClusterStatus {
        try await send(.status).decode(ClusterStatus.self)
    }

    /// Whether the node serves, and its name.
    public func health() async throws(KvorumClientError) -> Health {
        try await send(.health).decode(Health.self)
    }
}
