import Prometheus

/// Why the node refused an HTTP request or connection, the `reason` label of
/// `kvorum_http_requests_refused_total`.
enum RefusalReason: String, CaseIterable {
    /// The request head did not arrive within `--request-header-timeout`: 408.
    case headerTimeout = "header_timeout"
    /// The request head passed `--max-header-bytes`: 431.
    case headerTooLarge = "header_too_large"
    /// A key, prefix or cursor passed `--max-key-bytes`: 414.
    case keyTooLarge = "key_too_large"
    /// `--max-pending-operations` were in flight: 503.
    case pendingOperations = "pending_operations"
    /// `--max-connections` were open and none had idled long enough to evict: 503.
    case connections
}

/// Why the node dropped a message to a peer, the `reason` label of
/// `kvorum_peer_messages_dropped_total`.
enum PeerDropReason: String, CaseIterable {
    /// The peer's queue held `--peer-queue-limit` messages.
    case queueFull = "queue_full"
    /// The message waited for a connection longer than the request timeout.
    case expired
    /// The connection held `--peer-buffer-bytes` the peer had not taken.
    case bufferFull = "buffer_full"
}

/// Why the node closed an accepted peer connection before it was a peer
/// (besides TLS and identity, `PeerRefusal.Reason`): reasons of
/// `kvorum_peer_connections_refused_total`.
enum PeerAdmissionRefusal: String, CaseIterable {
    /// `--max-peer-connections` accepted connections were open.
    case maxPeerConnections = "max_peer_connections"
    /// No hello within `--request-header-timeout`.
    case noHello = "no_hello"
}

/// The metrics of the node's limits (docs/limits.md), registered with their
/// HELP text in the process's registry.
final class LimitMetrics: Sendable {
    static let shared = LimitMetrics(registry: ServerMetrics.registry)

    let connectionsOpen: Gauge
    let connectionsEvicted: Counter
    let connectionsIdleClosed: Counter
    let peerConnectionsOpen: Gauge
    let peerFramesRejected: Counter
    private let refused: [RefusalReason: Counter]
    private let dropped: [PeerDropReason: Counter]
    private let peerRefused: [String: Counter]

    init(registry: PrometheusCollectorRegistry) {
        connectionsOpen = registry.makeGauge(
            descriptor: ServerMetrics.named(
                "kvorum_http_connections_open",
                help: "Open HTTP client connections, at most --max-connections."))
        connectionsEvicted = registry.makeCounter(
            descriptor: ServerMetrics.named(
                "kvorum_http_connections_evicted_total",
                help: "Idle HTTP connections closed to make room for a new one at --max-connections."))
        connectionsIdleClosed = registry.makeCounter(
            descriptor: ServerMetrics.named(
                "kvorum_http_connections_idle_closed_total",
                help: "HTTP connections closed after sending nothing for --idle-timeout (or, when new, "
                    + "--request-header-timeout)."))
        peerConnectionsOpen = registry.makeGauge(
            descriptor: ServerMetrics.named(
                "kvorum_peer_connections_accepted_open",
                help: "Peer connections this node accepted that are open, at most --max-peer-connections."))
        peerFramesRejected = registry.makeCounter(
            descriptor: ServerMetrics.named(
                "kvorum_peer_frames_rejected_total",
                help: "Peer connections closed for a frame that is no peer message or is larger than "
                    + "--max-frame-bytes."))
        refused = ServerMetrics.counters(
            "kvorum_http_requests_refused_total",
            help: "HTTP requests and connections refused by a limit, by reason (docs/limits.md).", label: "reason",
            cases: RefusalReason.self, on: registry)
        dropped = ServerMetrics.counters(
            "kvorum_peer_messages_dropped_total",
            help: "Messages to peers dropped by reason: the peer's queue full (--peer-queue-limit), too old, or its "
                + "connection's buffer full (--peer-buffer-bytes).",
            label: "reason", cases: PeerDropReason.self, on: registry)
        peerRefused = ServerMetrics.counters(
            "kvorum_peer_connections_refused_total",
            help: "Peer connections closed at once, by reason: --max-peer-connections reached, no hello within "
                + "--request-header-timeout, a failed TLS handshake, or a certificate that does not match the name "
                + "and address the peer claimed.",
            label: "reason",
            values: PeerAdmissionRefusal.allCases.map(\.rawValue) + PeerRefusal.Reason.allCases.map(\.rawValue),
            text: { $0 }, on: registry)
    }

    func refused(_ reason: RefusalReason) { refused[reason]!.increment() }

    func dropped(_ reason: PeerDropReason, count: Int = 1) { dropped[reason]!.increment(by: Int64(count)) }

    func peerRefused(_ reason: PeerAdmissionRefusal) { peerRefused[reason.rawValue]!.increment() }

    func peerRefused(_ reason: PeerRefusal.Reason) { peerRefused[reason.rawValue]!.increment() }
}
