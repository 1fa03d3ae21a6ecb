import Foundation
import KvorumCerts
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import KvorumBench

/// The benchmark's channel transport: plain and TLS connections to a small
/// server that answers every request with the `Authorization` it received.
struct BenchTLSTests {
    /// A CA, and a certificate for 127.0.0.1 it signed, in a fresh directory.
    private static func certificates() throws -> CertificateDirectory {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kvorum-bench-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = CertificateDirectory(directory: directory)
        try certificates.createAuthority(lifetime: 1, overwrite: false)
        try certificates.createNode(
            name: "n1", hosts: [try CertificateHost(parsing: "127.0.0.1")], lifetime: 1, overwrite: false)
        return certificates
    }

    @Test func tlsConnectionCarriesTheTokenAndVerifiesTheServer() throws {
        let certificates = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let node = certificates.files(.node)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(node.certificate.path).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: node.key.path, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        let server = try EchoAuthorizationServer(tls: try NIOSSLContext(configuration: configuration))
        defer { server.stop() }

        let security = try ClientSecurity(caFile: certificates.caCertificateFile.path, token: "kvt_secret")
        #expect(security.transport == .channel)
        #expect(security.label == "+tls")
        let connection = Connection(to: server.endpoint, timeout: 5, security: security)
        for _ in 0..<3 {  // one connection, kept alive
            let response = try connection.http("GET", "/kv/a")
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "Bearer kvt_secret")
        }
        #expect(server.connections == 1)

        // A client that trusts another CA refuses the server's certificate.
        let other = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: other.directory) }
        let stranger = Connection(
            to: server.endpoint, timeout: 5, security: try ClientSecurity(caFile: other.caCertificateFile.path))
        #expect {
            _ = try stranger.http("GET", "/kv/a")
        } throws: { error in
            "\(error)".contains("TLS handshake failed")
        }
        // A plain client gets no HTTP answer from a TLS port.
        let plain = Connection(to: server.endpoint, timeout: 5, security: try ClientSecurity(transport: .channel))
        #expect(throws: BenchError.self) { _ = try plain.http("GET", "/kv/a") }
    }

    @Test(arguments: ClientSecurity.Transport.allCases)
    func plainConnectionsOverEitherTransport(transport: ClientSecurity.Transport) throws {
        let server = try EchoAuthorizationServer(tls: nil)
        defer { server.stop() }
        let security = try ClientSecurity(transport: transport, token: "t")
        #expect(security.label == (transport == .socket ? "" : "+channel"))
        let connection = Connection(to: server.endpoint, timeout: 5, security: security)
        let response = try connection.http("PUT", "/kv/a", body: Array("value".utf8))
        #expect(String(decoding: response.body, as: UTF8.self) == "Bearer t")
    }

    @Test func certificateWithoutKeyIsRefused() {
        #expect(throws: BenchError.self) { _ = try ClientSecurity(caFile: "/nonexistent", certificate: "c.crt") }
        #expect(throws: BenchError.self) { _ = try ClientSecurity(caFile: "/nonexistent/ca.crt") }
    }
}

/// Answers each request (a head, and a body of its Content-Length) with 200
/// and the value of its `Authorization` field as the body.
private final class EchoAuthorizationServer: @unchecked Sendable {
    private let channel: Channel
    private let lock = NSLock()
    private var accepted = 0

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: channel.localAddress!.port!) }
    var connections: Int { lock.withLock { accepted } }

    init(tls: NIOSSLContext?) throws {
        let server = UncheckedBox<EchoAuthorizationServer?>(nil)
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    server.value?.lock.withLock { server.value?.accepted += 1 }
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        server.value = self
    }

    func stop() { try? channel.close().wait() }
}

private final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

private final class EchoHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var received: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
        while let end = received.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
            let head = String(decoding: received[..<end], as: UTF8.self)
            var authorization = ""
            var length = 0
            for line in head.split(separator: "\r\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                switch parts[0].lowercased() {
                case "authorization": authorization = value
                case "content-length": length = Int(value) ?? 0
                default: break
                }
            }
            guard received.count >= end + length else { return }
            received.removeFirst(end + length)
            let answer = "HTTP/1.1 200 OK\r\nContent-Length: \(authorization.utf8.count)\r\n\r\n\(authorization)"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: answer)), promise: nil)
        }
    }
}
