import KvorumCore
import NIOCore
import NIOHTTP1

/// The open HTTP connections of a node, for `--max-connections`: admits a
/// new connection while there is room; at the limit evicts the connection
/// idle longest if it has idled at least `NodeLimits.evictableIdle`, else
/// refuses the new one (`503` with `Retry-After`). Lives on the node's loop.
final class HTTPConnections: @unchecked Sendable {
    let limits: NodeLimits
    private let metrics = LimitMetrics.shared
    private var open: [ObjectIdentifier: HTTPConnectionGuard] = [:]
    /// Refused connections that wait, output closed, for their client to
    /// read the answer and close (`HTTPConnectionGuard.refuse`).
    private(set) var lingering = 0

    init(limits: NodeLimits) { self.limits = limits }

    /// Admits `connection`, evicting an idle one if need be.
    ///
    /// - Returns: false if it must be refused.
    func admit(_ connection: HTTPConnectionGuard, now: NIODeadline) -> Bool {
        if open.count >= limits.maxConnections {
            let idlest = open.values.compactMap { guarded in guarded.idleSince.map { (guarded, $0) } }
                .min { $0.1 < $1.1 }
            guard let (victim, since) = idlest,
                now - since >= .nanoseconds(Int64(NodeLimits.evictableIdle * 1e9))
            else { return false }
            remove(victim)
            metrics.connectionsEvicted.increment()
            victim.evict()
        }
        open[ObjectIdentifier(connection)] = connection
        metrics.connectionsOpen.set(Int64(open.count))
        return true
    }

    /// Forgets a connection that closed or was refused.
    func remove(_ connection: HTTPConnectionGuard) {
        guard open.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
        metrics.connectionsOpen.set(Int64(open.count))
    }

    /// Refused connections that may linger at once: as many as may be
    /// open, and at least `minimumLingering`.
    private var lingeringLimit: Int { max(limits.maxConnections, Self.minimumLingering) }
    static let minimumLingering = 256

    /// Whether one more refused connection may linger; past
    /// `lingeringLimit` of them refused ones are closed at once.
    func beginLingering() -> Bool {
        guard lingering < lingeringLimit else { return false }
        lingering += 1
        return true
    }

    func endLingering() { lingering -= 1 }
}

/// The first handler of an HTTP connection, on raw bytes: admits it under
/// `--max-connections`, closes it after `--idle-timeout` without a request,
/// and answers `408` to a request head not complete within
/// `--request-header-timeout` of its first byte, whatever trickles in
/// meanwhile (a slowloris client gains nothing by sending slowly). A new
/// connection gets the header timeout for its first request.
///
/// `HTTPHandler`, behind the HTTP decoder, tells it when a request head is
/// taken up and when its answer has been written. Refusals are written here,
/// as raw bytes, then the connection closes its output and lingers for up
/// to `linger` seconds, dropping what the client still sends, so the client
/// reads the answer instead of a reset.
final class HTTPConnectionGuard: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Phase {
        /// Waiting for a request; `started` once a byte of its head came.
        case waiting(started: Bool)
        /// A head arrived; its answer is not yet written.
        case inRequest
        /// Refused or evicted: nothing more is read.
        case closing
    }

    /// Seconds a refused connection waits for its client to close.
    static let linger = 2.0

    private let connections: HTTPConnections
    private var phase = Phase.waiting(started: false)
    /// When the current wait (for a head, or for the next request) ends;
    /// disarmed while a request is under way.
    private var deadline = MovingDeadline()
    private var context: ChannelHandlerContext?
    /// When the connection last became idle (no request under way and no
    /// byte of the next one yet); nil while a request is under way.
    private(set) var idleSince: NIODeadline?

    init(connections: HTTPConnections) { self.connections = connections }

    private var limits: NodeLimits { connections.limits }

    /// Whether the connection was admitted when this handler was added
    /// (a refused one needs no HTTP handlers behind it).
    private(set) var isAdmitted = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let now = NIODeadline.now()
        isAdmitted = connections.admit(self, now: now)
        if isAdmitted { idleSince = now }
    }

    func channelActive(context: ChannelHandlerContext) {
        if isAdmitted {
            arm(after: limits.requestHeaderTimeout)
        } else {
            LimitMetrics.shared.refused(.connections)
            refuse(
                .serviceUnavailable,
                "this node has \(limits.maxConnections) open connections, its limit (--max-connections), and none "
                    + "has been idle long enough to close: retry shortly", retryAfter: 1)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.stop()
        connections.remove(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .closing: return
        case .waiting(started: false):
            phase = .waiting(started: true)
            idleSince = nil
            arm(after: limits.requestHeaderTimeout)
        case .waiting(started: true), .inRequest: break
        }
        context.fireChannelRead(data)
    }

    /// A request head was decoded: its deadline is met.
    func headReceived() {
        guard case .waiting = phase else { return }
        phase = .inRequest
        idleSince = nil
        deadline.disarm()
    }

    /// An answer was written in full: the connection idles until the next request.
    func answerWritten() {
        guard case .inRequest = phase else { return }
        phase = .waiting(started: false)
        idleSince = .now()
        arm(after: limits.idleTimeout)
    }

    /// Closed to make room for a new connection.
    func evict() {
        phase = .closing
        deadline.stop()
        context?.close(promise: nil)
    }

    private func arm(after seconds: Double) {
        deadline.arm(after: seconds, wake: wake)
    }

    private func wake(at moment: NIODeadline) -> Scheduled<Void>? {
        context?.eventLoop.scheduleTask(deadline: moment) { [weak self] in
            guard let self, self.deadline.woke(wake: self.wake) else { return }
            self.deadlinePassed()
        }
    }

    private func deadlinePassed() {
        guard case .waiting(let started) = phase else { return }
        if started {
            LimitMetrics.shared.refused(.headerTimeout)
            refuse(
                .requestTimeout,
                "the request head did not arrive within this node's limit of \(limits.requestHeaderTimeout) s "
                    + "(--request-header-timeout)")
        } else {
            LimitMetrics.shared.connectionsIdleClosed.increment()
            phase = .closing
            context?.close(promise: nil)
        }
    }

    /// Answers `status` with a JSON error and closes the connection: at
    /// once if too many refused connections linger already, else after
    /// the client closes or `linger` seconds.
    func refuse(_ status: HTTPResponseStatus, _ message: String, retryAfter: Int? = nil) {
        guard let context else { return }
        phase = .closing
        idleSince = nil
        deadline.stop()
        connections.remove(self)
        // Written as bytes here, below the HTTP decoder, as every answer is.
        let answer = HTTPAnswer.error(status, message).adding(retryAfter.map { [("Retry-After", String($0))] } ?? [])
        let channel = context.channel
        var bytes = channel.allocator.buffer(capacity: answer.body.count + 256)
        answer.encode(into: &bytes, keepAlive: false, withBody: true)
        let written = context.writeAndFlush(NIOAny(bytes))
        guard connections.beginLingering() else {
            written.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        channel.closeFuture.whenComplete { _ in self.connections.endLingering() }
        written.whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(Self.linger * 1e9))) {
                channel.close(promise: nil)
            }
        }
    }
}
