import KvorumCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Prometheus

/// TCP between peers: one connection per peer pair, reused for every message
/// in both directions, reconnected with backoff, with a bounded queue for
/// messages waiting for a connection.
///
/// A connection opens with a hello frame naming the dialer's node name and
/// peer address, so the acceptor knows whom it talks to. With TLS
/// (`NodeTLS`), every connection is mutual TLS and the other side's
/// certificate must match who it is (`PeerIdentity`): the acceptor checks
/// the hello against the dialer's certificate before it registers the
/// connection, and the dialer checks the acceptor's certificate against the
/// dialed address before it sends anything. A connection that fails either
/// check is logged, counted by reason and closed. When two nodes dial each
/// other at the same moment, the connection dialed by the lower address wins
/// and the other is closed. Everything here runs on the node's single event loop, which is
/// what makes the unchecked `Sendable` conformances sound. For the same
/// reason the properties every message touches skip the runtime's
/// exclusivity check (`@exclusivity(unchecked)`): each access is read or
/// changed in place and ends before any call that could come back here.
final class PeerTransport: @unchecked Sendable {
    struct Limits {
        /// Largest frame accepted from a peer.
        var maximumFrameSize = 16 << 20
        /// Messages queued per peer while it is unreachable; more are dropped
        /// (the protocol treats them as lost: timeouts, stand-ins and hints
        /// take over).
        var queueLimit = 10_000
        /// Seconds a message may wait for a connection; older ones are
        /// dropped, not delivered late. By then the sender has given up on
        /// the answer and acted (another replica, a stand-in, a hint), and a
        /// late forwarded write would be applied twice, e.g. by a peer that
        /// restarts seconds later. The server sets its request timeout.
        var queueTimeout = 0.5
        var initialBackoff = 0.05
        var maximumBackoff = 2.0
        /// Bytes written to a connection and not yet taken by the peer past
        /// which more messages to it are dropped (a peer that stops reading
        /// cannot make this node buffer without bound).
        var outboundBufferBytes = 32 << 20
        /// Accepted connections open at once; more are closed at once.
        var maximumAcceptedConnections = 64
        /// Seconds an accepted connection may take to send its hello.
        var helloTimeout = 10.0
    }

    /// The first frame of a connection, from the dialer: the marker byte,
    /// the hello's version, the dialer's node name (a 2-byte big-endian
    /// length, then UTF-8) and its peer address (UTF-8, the rest).
    struct Hello: Equatable {
        /// The first payload byte of a hello; peer messages start with
        /// `WireCodec.version` (1), so the two never collide.
        static let marker: UInt8 = 0
        /// Version 1 added the name; the first hellos held only the address.
        static let version: UInt8 = 1

        var name: String
        var address: Address

        func encode(into buffer: inout ByteBuffer) {
            buffer.writeInteger(Self.marker)
            buffer.writeInteger(Self.version)
            buffer.writeInteger(UInt16(name.utf8.count))
            buffer.writeString(name)
            buffer.writeString(address)
        }

        /// The hello in `payload`, or nil when it is none of this version.
        init?(_ payload: inout ByteBuffer) {
            guard payload.readInteger(as: UInt8.self) == Self.marker,
                payload.readInteger(as: UInt8.self) == Self.version,
                let length = payload.readInteger(as: UInt16.self), length > 0,
                let name = payload.readString(length: Int(length)),
                let address = payload.readString(length: payload.readableBytes), HostPort.parse(address) != nil
            else { return nil }
            self.init(name: name, address: address)
        }

        init(name: String, address: Address) {
            self.name = name
            self.address = address
        }
    }

    private final class Peer: @unchecked Sendable {
        var channel: Channel?
        var dialedByUs = false
        var connecting = false
        var queue: [(frame: ByteBuffer, expires: NIODeadline)] = []
        var attempts = 0
    }

    let loop: EventLoop
    let ownName: String
    let ownAddress: Address
    let limits: Limits
    /// Mutual TLS with every peer, or nil for plain TCP.
    private let tls: NodeTLS?
    /// The name of the member the node knows at an address, if any: what a
    /// peer at that address must be named in its certificate.
    var memberAt: (Address) -> String? = { _ in nil }
    private let logger: Logger
    private let deliver: (Address, PeerMessage) -> Void
    @exclusivity(unchecked) private var peers: [Address: Peer] = [:]
    /// Connections written to since the last `flush()`.
    @exclusivity(unchecked) private var unflushed: [Channel] = []
    /// The last message `send` built a frame for in this turn, and the frame.
    @exclusivity(unchecked) private var lastFrame: (message: PeerMessage, frame: ByteBuffer)?
    private var listener: Channel?
    @exclusivity(unchecked) private var closing = false
    private let metrics = LimitMetrics.shared
    private lazy var admission = PeerAdmission(limits: limits, logger: logger)
    private let sent = ServerMetrics.registry.makeCounter(
        descriptor: ServerMetrics.named("kvorum_peer_frames_sent_total", help: "Peer messages this node sent."))
    private let received = ServerMetrics.registry.makeCounter(
        descriptor: ServerMetrics.named("kvorum_peer_frames_received_total", help: "Peer messages this node received."))

    init(
        loop: EventLoop, ownName: String, ownAddress: Address, limits: Limits = Limits(), tls: NodeTLS? = nil,
        logger: Logger, deliver: @escaping (Address, PeerMessage) -> Void
    ) {
        self.loop = loop
        self.ownName = ownName
        self.ownAddress = ownAddress
        self.tls = tls
        self.limits = limits
        self.logger = logger
        self.deliver = deliver
    }

    /// Starts accepting peers on `host:port`.
    func listen(host: String, port: Int) -> EventLoopFuture<Void> {
        ServerBootstrap.listener(on: loop)
            .childChannelOption(.writeBufferWaterMark, value: limits.writeBufferWaterMark)
            .childChannelInitializer { channel in
                guard self.admission.admit(channel, greeted: { self.isAdopted(channel) }) else {
                    return channel.close()
                }
                return self.configure(channel, dialedTo: nil)
            }
            .bind(host: host, port: port)
            .map { self.listener = $0 }
    }

    /// Sends one message; queues it while the peer is not connected. A
    /// message to a connected peer is written at once but goes out with the
    /// next `flush()`, so one turn's messages to a peer share a system call.
    func send(_ message: PeerMessage, to address: Address) {
        loop.preconditionInEventLoop()
        guard !closing else { return }
        let frame = frame(for: message)
        let peer = peer(at: address)
        if let channel = peer.channel, channel.isActive {
            guard channel.isWritable else { return metrics.dropped(.bufferFull) }
            channel.write(frame, promise: nil)
            if !unflushed.contains(where: { $0 === channel }) { unflushed.append(channel) }
            sent.increment()
            return
        }
        expire(peer)
        if peer.queue.count >= limits.queueLimit {
            metrics.dropped(.queueFull)
        } else {
            peer.queue.append((frame, .now() + .nanoseconds(Int64(limits.queueTimeout * 1e9))))
        }
        connect(address, peer)
    }

    /// The record of the peer at `address`, made the first time.
    private func peer(at address: Address) -> Peer {
        if let known = peers[address] { return known }
        let peer = Peer()
        peers[address] = peer
        return peer
    }

    /// The frame carrying `message`. A write goes to each of its replicas
    /// as the same message in one turn: the frame built for the first is
    /// sent to the others (comparing is cheap there, as the copies share
    /// their storage).
    private func frame(for message: PeerMessage) -> ByteBuffer {
        if let lastFrame, lastFrame.message == message { return lastFrame.frame }
        let bytes = WireCodec.encode(message)
        let frame = ByteBufferAllocator().peerFrame(payloadCapacity: bytes.count) { $0.writeBytes(bytes) }
        lastFrame = (message, frame)
        return frame
    }

    /// Sends what `send` has written.
    func flush() {
        lastFrame = nil
        for channel in unflushed { channel.flush() }
        unflushed.removeAll(keepingCapacity: true)
    }

    /// Stops accepting and closes every connection.
    func close() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            self.closing = true
            var closed: [EventLoopFuture<Void>] = []
            if let listener = self.listener { closed.append(listener.close().recover { _ in }) }
            for peer in self.peers.values {
                if let channel = peer.channel { closed.append(channel.close().recover { _ in }) }
            }
            self.peers = [:]
            return EventLoopFuture.andAllComplete(closed, on: self.loop)
        }
    }

    // MARK: - Connections

    private func connect(_ address: Address, _ peer: Peer) {
        guard !peer.connecting, peer.channel == nil, !closing else { return }
        guard let (host, port) = HostPort.parse(address) else {
            logger.warning("cannot dial malformed peer address", metadata: ["address": "\(address)"])
            peer.queue.removeAll()
            return
        }
        peer.connecting = true
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: limits.writeBufferWaterMark)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                self.configure(channel, dialedTo: address)
            }
            .connect(host: host, port: port)
            .flatMap { channel in self.verifyAcceptor(on: channel, dialedTo: address) }
            .whenComplete { result in
                peer.connecting = false
                switch result {
                case .success(let channel):
                    self.greet(channel, dialedTo: address)
                case .failure:
                    self.retry(address, peer)
                }
            }
    }

    /// Without TLS, `channel` as it is. With TLS, `channel` once the
    /// handshake is done and the acceptor's certificate is that of the
    /// member at `address` (if the node knows one there) and names its
    /// host; fails (and closes the connection) otherwise.
    private func verifyAcceptor(on channel: Channel, dialedTo address: Address) -> EventLoopFuture<Channel> {
        guard tls != nil else { return channel.eventLoop.makeSucceededFuture(channel) }
        let watcher: HandshakeWatcher
        do {
            watcher = try channel.pipeline.syncOperations.handler(type: HandshakeWatcher.self)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return watcher.done.futureResult.flatMapThrowing { _ in
            guard let certificate = Self.peerCertificate(of: channel) else {
                throw self.refuse(channel, .handshake("the acceptor presented no certificate"))
            }
            if let refusal = PeerIdentity.refusal(
                of: certificate, claimedName: nil, address: address, memberAt: self.memberAt)
            {
                throw self.refuse(channel, refusal)
            }
            return channel
        }
    }

    /// What the other side's certificate says, once the TLS handshake on
    /// `channel` is done.
    private static func peerCertificate(of channel: Channel) -> PeerCertificate? {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self),
            let certificate = handler.peerCertificate
        else { return nil }
        return PeerCertificate(certificate)
    }

    /// A connection this node dialed to `address` is up: opens it with the
    /// hello (this node's name and peer address) and makes it the
    /// connection to `address`.
    func greet(_ channel: Channel, dialedTo address: Address) {
        let hello = channel.allocator.peerFrame(payloadCapacity: 4 + ownName.utf8.count + ownAddress.utf8.count) {
            Hello(name: ownName, address: ownAddress).encode(into: &$0)
        }
        channel.writeAndFlush(hello, promise: nil)
        adopt(channel, for: address, dialedByUs: true)
    }

    /// Whether `channel` is registered as some peer's connection: it has said hello.
    private func isAdopted(_ channel: Channel) -> Bool {
        peers.values.contains { $0.channel === channel }
    }

    /// Whether a live connection to `address` is registered.
    func isConnected(to address: Address) -> Bool {
        peers[address]?.channel?.isActive ?? false
    }

    private func retry(_ address: Address, _ peer: Peer) {
        expire(peer)
        guard !closing, !peer.queue.isEmpty, peers[address] === peer else { return }
        peer.attempts += 1
        let delay = min(limits.maximumBackoff, limits.initialBackoff * Double(1 << min(peer.attempts, 10)))
        loop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) {
            self.connect(address, peer)
        }
    }

    /// Makes `channel` the connection to `address`, resolving a simultaneous dial.
    private func adopt(_ channel: Channel, for address: Address, dialedByUs: Bool) {
        let peer = peer(at: address)
        if let existing = peer.channel, existing !== channel, existing.isActive {
            // Both sides dialed: both keep the connection the lower address dialed.
            let winnerDialedByUs = ownAddress < address
            if peer.dialedByUs == winnerDialedByUs && dialedByUs != winnerDialedByUs {
                channel.close(promise: nil)
                return
            }
            existing.close(promise: nil)
        }
        peer.channel = channel
        peer.dialedByUs = dialedByUs
        peer.attempts = 0
        expire(peer)
        let queued = peer.queue
        peer.queue = []
        for (frame, _) in queued {
            channel.write(frame, promise: nil)
            sent.increment()
        }
        channel.flush()
        channel.closeFuture.whenComplete { _ in
            guard peer.channel === channel else { return }
            peer.channel = nil
            self.expire(peer)
            if !peer.queue.isEmpty { self.connect(address, peer) }
        }
    }

    /// Drops the queued messages that waited longer than `queueTimeout`.
    private func expire(_ peer: Peer) {
        let now = NIODeadline.now()
        let before = peer.queue.count
        peer.queue.removeAll { $0.expires < now }
        if peer.queue.count < before { metrics.dropped(.expired, count: before - peer.queue.count) }
    }

    private func configure(_ channel: Channel, dialedTo address: Address?) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try self.installPeerHandlers(on: channel, dialedTo: address)
        }
    }

    /// Builds a peer connection's pipeline: with TLS, the TLS handler (and,
    /// on a dialed connection, the watcher of its handshake), then the
    /// handler that cuts frames and hands them to this transport.
    /// `address` is the peer this node dialed, or nil for an accepted
    /// connection, whose first frame must then be the dialer's hello.
    func installPeerHandlers(on channel: Channel, dialedTo address: Address?) throws {
        if let tls {
            if let address {
                let host = HostPort.parse(address)?.host ?? address
                try channel.pipeline.syncOperations.addHandler(try tls.dialerHandler(host: host))
                try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: channel.eventLoop.makePromise()))
            } else {
                try channel.pipeline.syncOperations.addHandler(tls.acceptorHandler())
            }
        }
        try channel.pipeline.syncOperations.addHandler(
            InboundHandler(transport: self, peerAddress: address, maximumFrameSize: limits.maximumFrameSize))
    }

    fileprivate func onFrame(_ payload: ByteBuffer, on channel: Channel, handler: InboundHandler) {
        var payload = payload
        if handler.peerAddress == nil {
            guard let hello = Hello(&payload) else {
                rejectConnection(channel, handler: handler, reason: "first frame is not a hello")
                return
            }
            if tls != nil {
                guard let certificate = Self.peerCertificate(of: channel) else {
                    refuse(channel, handler: handler, .handshake("the dialer presented no certificate"))
                    return
                }
                if let refusal = PeerIdentity.refusal(
                    of: certificate, claimedName: hello.name, address: hello.address, memberAt: memberAt)
                {
                    refuse(channel, handler: handler, refusal)
                    return
                }
                handler.certifiedName = certificate.commonName
            }
            handler.peerAddress = hello.address
            adopt(channel, for: hello.address, dialedByUs: false)
            return
        }
        do {
            // Copied at once: the codec's generic copy of a ByteBufferView
            // went byte by byte through protocol witnesses.
            let message = try WireCodec.decode(payload.withUnsafeReadableBytes { Array($0) })
            if let certified = handler.certifiedName, case .join(let entry) = message.body,
                let refusal = PeerIdentity.joinRefusal(joiningName: entry.name, connectionName: certified)
            {
                refuse(channel, handler: handler, refusal)
                return
            }
            received.increment()
            deliver(handler.peerAddress!, message)
        } catch {
            rejectConnection(channel, handler: handler, reason: error.description)
        }
    }

    /// Closes a connection whose peer is not who it claims (or could not
    /// show who it is); logs the reason once and counts it.
    @discardableResult
    fileprivate func refuse(_ channel: Channel, handler: InboundHandler? = nil, _ refusal: PeerRefusal)
        -> PeerRefusal
    {
        if let handler {
            guard !handler.refused else { return refusal }
            handler.refused = true
        }
        metrics.peerRefused(refusal.reason)
        logger.warning(
            "refusing peer connection",
            metadata: [
                "reason": "\(refusal)", "remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
            ])
        channel.close(promise: nil)
        return refusal
    }

    /// An error on a connection: a failed TLS handshake is a refusal; a
    /// peer that went away without closing TLS is no fault of anyone's;
    /// anything else is a protocol violation.
    fileprivate func onError(_ error: Error, on channel: Channel, handler: InboundHandler) {
        switch error as? NIOSSLError {
        case .handshakeFailed(let detail)?:
            refuse(channel, handler: handler, .handshake("\(detail)"))
        case .uncleanShutdown?:
            handler.refused = true
            channel.close(promise: nil)
        default:
            rejectConnection(channel, handler: handler, reason: "\(error)")
        }
    }

    /// Closes a connection that sent something other than peer frames.
    /// Frames already decoded behind the offending one (the same read may
    /// hold several) are dropped with it, not delivered.
    fileprivate func rejectConnection(_ channel: Channel, handler: InboundHandler, reason: String) {
        handler.refused = true
        metrics.peerFramesRejected.increment()
        logger.warning(
            "closing peer connection",
            metadata: ["reason": "\(reason)", "remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
        channel.close(promise: nil)
    }
}

/// Cuts the bytes read into frames and hands them to the transport;
/// remembers which peer this is.
///
/// Its state skips the runtime's exclusivity check (`@exclusivity(unchecked)`,
/// as the transport's does): it lives on the connection's event loop, and
/// each access ends before the frame it found is handed on.
private final class InboundHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    unowned let transport: PeerTransport
    @exclusivity(unchecked) var peerAddress: Address?
    /// On an accepted TLS connection, the name its certificate was checked for.
    @exclusivity(unchecked) var certifiedName: String?
    /// Set when the transport refuses this connection: nothing more is read
    /// from it, not even frames behind the refused one in the same read.
    @exclusivity(unchecked) var refused = false
    @exclusivity(unchecked) private var frames: PeerFrameSplitter

    init(transport: PeerTransport, peerAddress: Address?, maximumFrameSize: Int) {
        self.transport = transport
        self.peerAddress = peerAddress
        frames = PeerFrameSplitter(maximumFrameSize: maximumFrameSize)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        frames.append(unwrapInboundIn(data))
        do {
            while !refused, let payload = try frames.next() {
                transport.onFrame(payload, on: context.channel, handler: self)
            }
        } catch {
            transport.onError(error, on: context.channel, handler: self)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !refused else { return }
        transport.onError(error, on: context.channel, handler: self)
    }
}

/// Completes `done` when the TLS handshake of a dialed connection is
/// finished, or fails it when the connection ends first.
private final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    struct ClosedBeforeHandshake: Error {}

    let done: EventLoopPromise<Void>
    private var finished = false

    init(done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent { finish(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(ClosedBeforeHandshake())
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(ClosedBeforeHandshake())
    }

    private func finish(_ error: Error?) {
        guard !finished else { return }
        finished = true
        if let error { done.fail(error) } else { done.succeed() }
    }
}
