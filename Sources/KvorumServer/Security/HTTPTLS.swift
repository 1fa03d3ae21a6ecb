import NIOSSL

/// The HTTPS side of a node's client port: its certificate and key, and
/// the cluster CA that client certificates must be signed by.
///
/// The files are the ones `kvorum certs create-node` writes into a node's
/// directory (`--certs-dir`): `node.crt`, `node.key`, `ca.crt`. A client
/// certificate is optional at the TLS layer: one that is presented must be
/// signed by the CA and be within its validity period, or the handshake
/// fails; a client without one authenticates with a bearer token instead.
public struct HTTPTLS: Sendable {
    let context: NIOSSLContext

    /// The HTTPS side of the TLS files `node` has loaded and checked (the
    /// node reads its certificate directory once, for peers and clients).
    public init(node: NodeTLS) {
        context = node.httpContext
    }

    /// The common name of a verified client certificate, if the connection
    /// presented one.
    static func clientName(_ handler: NIOSSLServerHandler) -> String? {
        handler.peerCertificate?.subjectName.last(where: { $0.type == .commonName })?.value
    }
}
