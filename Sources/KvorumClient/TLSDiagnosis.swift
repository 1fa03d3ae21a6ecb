import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import X509

/// Why a TLS handshake with a node failed, in words a person can act on:
/// the node's certificate is not signed by the given CA, has expired, does
/// not name the host; or the node refused this client's certificate.
///
/// BoringSSL decides whether to trust the node; its error says only that
/// verification failed. To say why, the diagnosis fetches the node's
/// certificate over a second connection that verifies nothing (and sends
/// nothing but the handshake) and checks it against the CA with
/// swift-certificates. The answer is only ever used for the message.
enum TLSDiagnosis {
    /// The message for a TLS failure (`text`: NIOSSL's error) of a
    /// connection to `host:port`.
    static func explain(_ text: String, host: String, port: Int, credentials: ClientCredentials) async -> String {
        if text.contains("failedToValidateHostname") {
            return "the node's certificate does not name \(host) (hostname mismatch): "
                + "connect by a name or address its certificate lists"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return await diagnoseServerCertificate(host: host, port: port, credentials: credentials)
        }
        let refusals: [(String, String)] = [
            ("CERTIFICATE_EXPIRED", "the node refused this client's certificate: it has expired"),
            (
                "UNKNOWN_CA",
                "the node refused this client's certificate: it is not signed by the node's CA (unknown CA)"
            ),
            ("CERTIFICATE_REQUIRED", "the node requires a client certificate (--cert FILE --key FILE)"),
            ("BAD_CERTIFICATE", "the node refused this client's certificate"),
            ("WRONG_VERSION_NUMBER", "the node does not speak TLS on this port: use an http:// URL"),
        ]
        for (mark, message) in refusals where text.contains(mark) { return message }
        return "TLS failed: \(text)"
    }

    /// Why the node's certificate did not verify against the CA.
    private static func diagnoseServerCertificate(host: String, port: Int, credentials: ClientCredentials) async
        -> String
    {
        let given = credentials.caFile.map { "the CA in \($0)" } ?? "the system's trusted CAs"
        let generic = "the node's certificate did not verify against \(given)"
        guard let caPEM = credentials.caPEM, let authority = try? Certificate(pemEncoded: caPEM),
            let leaf = await fetchCertificate(host: host, port: port)
        else { return generic }
        let issuer = leaf.issuer.description
        guard authority.publicKey.isValidSignature(leaf.signature, for: leaf) else {
            return "the node's certificate (issued by \(issuer)) is not signed by \(given) (unknown CA): "
                + "pass the cluster's ca.crt with --ca"
        }
        let now = Date()
        if leaf.notValidAfter < now {
            return "the node's certificate expired on \(leaf.notValidAfter) (expired certificate): make it a new one"
        }
        if leaf.notValidBefore > now {
            return "the node's certificate is not valid before \(leaf.notValidBefore): check the clocks"
        }
        return generic
    }

    /// The node's leaf certificate, fetched without verifying it.
    private static func fetchCertificate(host: String, port: Int) async -> Certificate? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let fetched = loop.makePromise(of: NIOSSLCertificate?.self)
        let deadline = loop.scheduleTask(in: .seconds(5)) { fetched.succeed(nil) }
        fetched.futureResult.whenComplete { _ in deadline.cancel() }
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(
                        context: context, serverHostname: host.isIPAddress ? nil : host)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(CertificateGrabber(fetched: fetched))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { connected in
                switch connected {
                case .success(let channel): fetched.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure: fetched.succeed(nil)
                }
            }
        guard let certificate = try? await fetched.futureResult.get(), let der = try? certificate.toDERBytes() else {
            return nil
        }
        return try? Certificate(derEncoded: der)
    }
}

/// Takes the peer's certificate once the handshake completes.
private final class CertificateGrabber: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let fetched: EventLoopPromise<NIOSSLCertificate?>

    init(fetched: EventLoopPromise<NIOSSLCertificate?>) { self.fetched = fetched }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            fetched.succeed(handler?.peerCertificate)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fetched.succeed(nil)
        context.close(promise: nil)
    }
}

extension String {
    /// Whether the text is an IPv4 or IPv6 address (which TLS cannot send as SNI).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
