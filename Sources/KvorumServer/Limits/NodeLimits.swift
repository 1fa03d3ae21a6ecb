/// The bounds a node puts on what its clients and peers may make it hold:
/// connections, time, sizes and queues (docs/limits.md). Past each one the
/// node refuses with a clear answer and a metric, and keeps serving the rest.
public struct NodeLimits: Sendable, Equatable {
    /// Open HTTP connections. At the limit a new connection evicts the one
    /// idle longest (if one has idled `evictableIdle` seconds), else it is
    /// answered `503` with `Retry-After` and closed.
    public var maxConnections = 1024
    /// Peer connections this node accepts (not counting those it dials).
    public var maxPeerConnections = 64
    /// Seconds a keep-alive HTTP connection may wait, between requests, for
    /// the next one.
    public var idleTimeout = 60.0
    /// Seconds a client has to send a request's whole head, counted from its
    /// first byte (or from the connection's opening); past it: `408`.
    public var requestHeaderTimeout = 10.0
    /// The largest request head (request line and headers); past it: `431`.
    public var maxHeaderBytes = 16 << 10
    /// The largest key (and list prefix or cursor), UTF-8 bytes; past it: `414`.
    public var maxKeyBytes = 1024
    /// The largest peer frame accepted; a larger one closes its connection.
    public var maxFrameBytes = 16 << 20
    /// Messages queued per peer while it is not connected; more are dropped.
    public var peerQueueLimit = 10_000
    /// Bytes written to a peer connection and not yet taken by the peer;
    /// while more are waiting, further messages to it are dropped.
    public var peerBufferBytes = 32 << 20
    /// Client operations in flight on this node; past it: `503` with `Retry-After`.
    public var maxPendingOperations = 10_000

    /// Seconds a connection must have idled before a new one may evict it.
    public static let evictableIdle = 1.0

    /// Connections the kernel may hold on each listening port (client API
    /// and peer), handshaken and not yet accepted; the kernel caps it at
    /// `net.core.somaxconn`. NIO's default of 128 dropped the handshakes of
    /// a burst of new connections faster than the loop accepts them, and
    /// each dropped client waited a whole second to try again.
    public static let listenBacklog: Int32 = 1024

    public init() {}
}
