import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// How the drivers reach a Kvorum node: plain TCP or TLS, and the bearer
/// token (if any) every HTTP request carries. One value is shared by every
/// connection of a run, so the TLS context (trust roots, client certificate)
/// is loaded once.
public struct ClientSecurity: Sendable {
    /// Which transport the connections use.
    public enum Transport: String, Sendable, CaseIterable {
        /// Blocking sockets, the benchmark's own and its fastest path (no TLS).
        case socket
        /// Channels run by SwiftNIO on their own threads, the bench thread
        /// waiting for each answer; the only path that speaks TLS.
        case channel
    }

    /// Plain TCP over blocking sockets, no token.
    public static let plain = ClientSecurity(transport: .socket, tls: nil, token: nil)

    public let transport: Transport
    let tls: NIOSSLContext?
    /// Sent as `Authorization: Bearer …` with every HTTP request.
    public let token: String?

    private init(transport: Transport, tls: NIOSSLContext?, token: String?) {
        self.transport = transport
        self.tls = tls
        self.token = token
    }

    /// With a CA file, connections use TLS (over channels) and trust only
    /// that CA; `certificate` and `key` present a client certificate.
    /// Without a CA they are plain, over `transport`.
    public init(
        transport: Transport = .socket, caFile: String? = nil, certificate: String? = nil, key: String? = nil,
        token: String? = nil
    ) throws {
        guard (certificate == nil) == (key == nil) else {
            throw BenchError.connect("a client certificate needs both its certificate and its key file")
        }
        guard let caFile else {
            guard certificate == nil else { throw BenchError.connect("a client certificate needs a CA file (TLS)") }
            self.init(transport: transport, tls: nil, token: token)
            return
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        do {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            if let certificate, let key {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
            self.init(transport: .channel, tls: try NIOSSLContext(configuration: configuration), token: token)
        } catch {
            throw BenchError.connect("cannot load the TLS files: \(error)")
        }
    }

    /// How reports name these connections after `kvorum`: nothing for the
    /// default blocking sockets, `+channel` for plain TCP over channels,
    /// `+tls` for TLS.
    public var label: String {
        if tls != nil { return "+tls" }
        return transport == .channel ? "+channel" : ""
    }

    /// Opens a connection to `endpoint` whose reads time out after `timeout` seconds.
    func connect(to endpoint: Endpoint, timeout: Double) throws -> any KvorumBench.Transport {
        switch transport {
        case .socket: try Socket(to: endpoint, timeout: timeout)
        case .channel: try ChannelTransport(to: endpoint, tls: tls, timeout: timeout)
        }
    }
}

/// A connection run by SwiftNIO, optionally TLS, that a bench thread uses
/// as if it were blocking: writes are handed to the channel, and reads wait
/// for what the channel has received.
final class ChannelTransport: Transport {
    private let channel: Channel
    private let inbox: Inbox
    private let timeout: Double

    init(to endpoint: Endpoint, tls: NIOSSLContext?, timeout: Double) throws {
        let inbox = Inbox()
        // SNI and the name check take a host name; for an IP address NIOSSL
        // checks the certificate's IP entries against the peer's address.
        let isAddress = (try? SocketAddress(ipAddress: endpoint.host, port: 0)) != nil
        let serverName = isAddress ? nil : endpoint.host
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(Int64(timeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox))
                }
            }
        do {
            channel = try bootstrap.connect(host: endpoint.host, port: endpoint.port).wait()
        } catch {
            throw BenchError.connect("\(endpoint): \(error)")
        }
        self.inbox = inbox
        self.timeout = timeout
    }

    deinit { channel.close(promise: nil) }

    func write(_ bytes: [UInt8]) throws {
        try inbox.check()
        // A failed write closes the channel; the next read reports why.
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try inbox.take(into: buffer, waitingAtMost: timeout)
    }
}

/// What a channel has received and not yet been read, or why it failed;
/// filled on the channel's event loop, drained by the bench thread.
private final class Inbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var bytes = ByteBuffer()
    private var failure: BenchError?

    func append(_ received: ByteBuffer) {
        condition.lock()
        var received = received
        bytes.writeBuffer(&received)
        condition.signal()
        condition.unlock()
    }

    /// Records the first reason the channel stopped.
    func fail(_ error: BenchError) {
        condition.lock()
        if failure == nil { failure = error }
        condition.signal()
        condition.unlock()
    }

    /// Throws if the channel has failed.
    func check() throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    func take(into buffer: UnsafeMutableRawBufferPointer, waitingAtMost timeout: Double) throws -> Int {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while bytes.readableBytes == 0 {
            if let failure { throw failure }
            if !condition.wait(until: deadline) { throw BenchError.timeout }
        }
        let count = min(buffer.count, bytes.readableBytes)
        bytes.withUnsafeReadableBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        bytes.moveReaderIndex(forwardBy: count)
        if bytes.readableBytes == 0 { bytes.clear() }
        return count
    }
}

/// Moves what the channel reads into its inbox, and its end or error.
private final class InboxHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let inbox: Inbox

    init(_ inbox: Inbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.fail(.io("closed by peer"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        inbox.fail(.io(Self.describe(error)))
        context.close(promise: nil)
    }

    /// Says what a TLS failure means in words an operator can act on.
    static func describe(_ error: Error) -> String {
        guard let tls = error as? NIOSSLError else { return "\(error)" }
        if case .handshakeFailed(let reason) = tls {
            return "TLS handshake failed (\(reason)): is --ca the cluster's CA, and the node's certificate valid?"
        }
        return "TLS: \(tls)"
    }
}
