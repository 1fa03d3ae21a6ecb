import Foundation
import KvorumCerts
import KvorumCore
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A cluster CA and node certificate directories under `root`, made
/// in-process with KvorumCerts (`CertificateSet`): `root/NAME` is node
/// NAME's `--certs-dir`, for 127.0.0.1 and localhost unless told otherwise.
struct TestCertificates: Sendable {
    let certificates: CertificateSet
    var root: URL { certificates.root }
    var caFile: URL { certificates.caCertificateFile }

    init(root: URL) throws {
        certificates = try CertificateSet(root: root, lifetime: 30)
    }

    @discardableResult
    func node(_ name: String, hosts: [String] = ["127.0.0.1", "localhost"], reissue: Bool = false) throws -> URL {
        try certificates.node(
            name, hosts: try hosts.map(CertificateHost.init(parsing:)), lifetime: 30, reissue: reissue)
    }
}

/// A peer made by hand: a TLS connection to a node's peer port with a
/// certificate directory of the test's choosing, which sends whatever
/// frames the test gives and records what comes back.
final class TLSTestPeer: @unchecked Sendable {
    private final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let lock = NSLock()
        var bytes: [UInt8] = []
        var closed = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            lock.withLock { bytes += Array(buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            lock.withLock { closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let recorder = Recorder()
    private let channel: Channel

    /// Connects to 127.0.0.1:`port` presenting `directory`'s node
    /// certificate (and trusting its `ca.crt`), or no certificate at all
    /// when `directory` is nil.
    init(port: Int, certificates directory: URL?, trusting caFile: URL) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(file: caFile.path, format: .pem)])
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = .tlsv13
        if let directory {
            configuration.certificateChain = [
                .certificate(
                    try NIOSSLCertificate(file: directory.appendingPathComponent("node.crt").path, format: .pem))
            ]
            configuration.privateKey = .privateKey(
                try NIOSSLPrivateKey(file: directory.appendingPathComponent("node.key").path, format: .pem))
        }
        let context = try NIOSSLContext(configuration: configuration)
        let recorder = recorder
        do {
            channel = try ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(recorder)
                    }
                }
                .connect(host: "127.0.0.1", port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    deinit { try? group.syncShutdownGracefully() }

    /// Sends `bytes` (whole frames) over TLS.
    func send(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Whether the node closed the connection.
    var isClosed: Bool { recorder.lock.withLock { recorder.closed } }

    /// The peer messages received so far (frames after the first are decoded).
    func messages() -> [PeerMessage] {
        var bytes = recorder.lock.withLock { recorder.bytes }[...]
        var messages: [PeerMessage] = []
        while bytes.count >= 4 {
            let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            guard bytes.count >= 4 + length else { break }
            let payload = Array(bytes.dropFirst(4).prefix(length))
            bytes = bytes.dropFirst(4 + length)
            if let message = try? WireCodec.decode(payload[...]) { messages.append(message) }
        }
        return messages
    }

    func close() { channel.close(promise: nil) }
}

/// A TLS listener made by hand on a port of 127.0.0.1, presenting a
/// certificate directory of the test's choosing and requiring a client
/// certificate of its CA, as a node's peer port does; it records every byte
/// that arrives after the handshake (a dialer's hello would be the first).
final class TLSTestAcceptor: @unchecked Sendable {
    private final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let lock = NSLock()
        var bytes: [UInt8] = []
        var handshakes = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            lock.withLock { bytes += Array(buffer.readableBytesView) }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted? = event as? TLSUserEvent { lock.withLock { handshakes += 1 } }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let recorder = Recorder()
    private let channel: Channel

    init(port: Int, certificates directory: URL) throws {
        let configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: [
                .certificate(
                    try NIOSSLCertificate(file: directory.appendingPathComponent("node.crt").path, format: .pem))
            ],
            privateKey: .privateKey(
                try NIOSSLPrivateKey(file: directory.appendingPathComponent("node.key").path, format: .pem)),
            trustRoots: .certificates([
                try NIOSSLCertificate(file: directory.appendingPathComponent("ca.crt").path, format: .pem)
            ]))
        let context = try NIOSSLContext(configuration: configuration)
        let recorder = recorder
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(recorder)
                    }
                }
                .bind(host: "127.0.0.1", port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    deinit {
        channel.close(promise: nil)
        try? group.syncShutdownGracefully()
    }

    /// TLS handshakes completed with dialers so far.
    var handshakes: Int { recorder.lock.withLock { recorder.handshakes } }
    /// Bytes received after handshakes (none: no dialer said anything).
    var received: [UInt8] { recorder.lock.withLock { recorder.bytes } }
}
