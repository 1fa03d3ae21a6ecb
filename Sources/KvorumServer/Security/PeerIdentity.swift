import KvorumCore

/// Whether the certificate a peer presented matches who it says it is.
///
/// TLS proves that the other side holds the key of a certificate the cluster
/// CA signed; that alone would let any node impersonate any other (on one
/// machine every node's certificate names 127.0.0.1). So a peer connection
/// is accepted only when, besides, the certificate's common name is the
/// name the peer claims, its subjectAltName names the host of the peer
/// address, and a member the node already knows at that address has that
/// same name. Pure: the transport gathers the facts and acts on the answer.
public enum PeerIdentity {
    /// Why `certificate` may not speak for the peer named `claimedName` (nil:
    /// the name is not known, as when this node dialed an address of no
    /// member yet) at `address`, or nil when it may.
    ///
    /// - Parameter memberAt: the name of the member the node knows at an
    ///   address, if any.
    public static func refusal(
        of certificate: PeerCertificate, claimedName: String?, address: Address, memberAt: (Address) -> String?
    ) -> PeerRefusal? {
        guard let commonName = certificate.commonName, !commonName.isEmpty else { return .noCommonName }
        if let claimedName, claimedName != commonName {
            return .nameMismatch(certificate: commonName, claimed: claimedName)
        }
        guard let host = HostPort.parse(address)?.host, certificate.names(host: host) else {
            return .hostNotInCertificate(
                address: address, certificate: commonName, hosts: certificate.hosts.map(\.description))
        }
        if let member = memberAt(address), member != commonName {
            return .memberMismatch(address: address, member: member, certificate: commonName)
        }
        return nil
    }

    /// Why a join request naming `joiningName` may not come over a connection
    /// whose certificate is for `connectionName`, or nil when it may.
    public static func joinRefusal(joiningName: String, connectionName: String) -> PeerRefusal? {
        joiningName == connectionName ? nil : .joinMismatch(joining: joiningName, certificate: connectionName)
    }
}

/// Why a peer connection was refused: the log line's text, and its reason
/// (the `reason` label of `kvorum_peer_connections_refused_total`).
public enum PeerRefusal: Error, Equatable, CustomStringConvertible {
    /// The TLS handshake failed: no certificate, one from another CA, an
    /// expired one, or not TLS at all.
    case handshake(String)
    /// The certificate names nobody.
    case noCommonName
    case nameMismatch(certificate: String, claimed: String)
    case hostNotInCertificate(address: String, certificate: String, hosts: [String])
    case memberMismatch(address: String, member: String, certificate: String)
    case joinMismatch(joining: String, certificate: String)

    /// The kinds of refusal, as metric labels.
    public enum Reason: String, CaseIterable, Sendable {
        case handshake = "tls_handshake"
        case noCommonName = "no_common_name"
        case nameMismatch = "name_mismatch"
        case hostNotInCertificate = "host_not_in_certificate"
        case memberMismatch = "member_mismatch"
        case joinMismatch = "join_mismatch"
    }

    public var reason: Reason {
        switch self {
        case .handshake: .handshake
        case .noCommonName: .noCommonName
        case .nameMismatch: .nameMismatch
        case .hostNotInCertificate: .hostNotInCertificate
        case .memberMismatch: .memberMismatch
        case .joinMismatch: .joinMismatch
        }
    }

    public var description: String {
        switch self {
        case .handshake(let detail):
            "TLS handshake failed: \(detail)"
        case .noCommonName:
            "peer certificate has no common name"
        case .nameMismatch(let certificate, let claimed):
            "peer certificate is for \(certificate) but the hello claims \(claimed)"
        case .hostNotInCertificate(let address, let certificate, let hosts):
            "peer certificate for \(certificate) does not name the host of \(address) (it names "
                + "\(hosts.isEmpty ? "no host" : hosts.joined(separator: ", ")))"
        case .memberMismatch(let address, let member, let certificate):
            "\(address) is member \(member)'s address but the peer certificate is for \(certificate)"
        case .joinMismatch(let joining, let certificate):
            "join request for \(joining) came on a connection whose certificate is for \(certificate)"
        }
    }
}
