import KvorumRouting

/// Decides whether a request may use a route (docs/security.md).
///
/// A request is authenticated by `Authorization: Bearer TOKEN`, when it
/// carries that header, else by the client certificate it presented over
/// TLS (already verified against the cluster CA by the TLS layer), found by
/// its common name. The identity's role must include the route's role;
/// `/health` needs none.
///
/// Access is checked when the node serves HTTPS or lists any credential:
/// a node without TLS and without an `[auth]` table is open, as on the
/// loopback of `kvorum cluster up`.
struct Authenticator: Sendable {
    /// Who made a request.
    struct Identity: Equatable, Sendable {
        enum Kind: String, Sendable {
            case token
            case certificate
        }

        var kind: Kind
        var name: String
        var role: Role
    }

    /// Why a request was refused; each is one HTTP answer and one metric label.
    enum Refusal: Equatable, Sendable {
        /// No credential at all: 401.
        case missing
        /// A token no entry hashes to, a header that is not a bearer token,
        /// or a certificate whose name has no entry: 401.
        case unknown
        /// Authenticated, but the role is too low: 403.
        case forbidden(identity: Identity, needed: Role)

        /// Whether the identity is known and its role too low (403, not 401).
        var isForbidden: Bool {
            if case .forbidden = self { return true }
            return false
        }

        /// The metric label.
        var reason: String {
            switch self {
            case .missing: "missing"
            case .unknown: "unknown"
            case .forbidden: "forbidden"
            }
        }
    }

    enum Decision: Equatable, Sendable {
        /// Allowed; the identity is nil when the route or the node is open.
        case allowed(Identity?)
        case refused(Refusal)
    }

    private let access: AccessList
    /// Whether requests are checked at all.
    let enforced: Bool

    init(access: AccessList, tls: Bool) {
        self.access = access
        enforced = tls || !access.isEmpty
    }

    /// The decision for a request to a route needing `needed` (nil: open),
    /// with its `Authorization` header and its client certificate's common
    /// name, if any.
    func decide(needed: Role?, authorization: String?, certificateName: String?) -> Decision {
        guard enforced, let needed else { return .allowed(nil) }
        let identity: Identity
        if let authorization {
            guard let token = Self.bearerToken(authorization), let found = find(token: token) else {
                return .refused(.unknown)
            }
            identity = found
        } else if let certificateName {
            guard let client = access.clients.first(where: { $0.name == certificateName }) else {
                return .refused(.unknown)
            }
            identity = Identity(kind: .certificate, name: client.name, role: client.role)
        } else {
            return .refused(.missing)
        }
        guard identity.role.includes(needed) else { return .refused(.forbidden(identity: identity, needed: needed)) }
        return .allowed(identity)
    }

    /// The token whose hash is listed; every entry is compared in full, in
    /// constant time, whichever matches.
    private func find(token: String) -> Identity? {
        let hash = AccessToken.hash(token)
        var found: AccessList.Token?
        for entry in access.tokens where AccessToken.constantTimeEqual(entry.sha256, hash) { found = entry }
        return found.map { Identity(kind: .token, name: $0.name, role: $0.role) }
    }

    /// The token of an `Authorization: Bearer TOKEN` header (the scheme in
    /// any case, RFC 7235); nil for any other form.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingSpaces
        return token.isEmpty ? nil : token
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
