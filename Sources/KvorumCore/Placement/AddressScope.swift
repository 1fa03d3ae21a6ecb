/// Who can reach a peer address (`host:port`): every host, only the host
/// itself, or nobody because it names no host at all.
///
/// A member's address goes into the ring and every other node dials it, so it
/// must be reachable from each of them. A wildcard (`0.0.0.0`, `::`) is a way
/// to *listen*, never an address to dial; a loopback address (`127.x.x.x`,
/// `::1`, `localhost`) reaches only the machine that dials it, so it is a
/// valid ring address only in a cluster whose nodes all share one machine.
/// Host names other than `localhost` are taken as reachable: resolving them
/// is the operator's business, not the state machine's.
public enum AddressScope: Sendable, Equatable {
    /// Names no host: a listener's "every interface".
    case wildcard
    /// Reaches the dialing machine itself.
    case loopback
    /// Reaches a host from anywhere its network routes to.
    case routable

    /// The scope of a `host:port` address (the text before the last colon is
    /// the host; IPv6 hosts may be bracketed).
    public init(address: Address) {
        let host = address.lastIndex(of: ":").map { address[..<$0] } ?? address[...]
        self.init(host: String(host))
    }

    /// The scope of a host name or IP literal.
    public init(host: String) {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = String(host.dropFirst().dropLast())
        }
        if host.isEmpty || (host.contains(":") && host.allSatisfy { $0 == "0" || $0 == ":" }) {
            self = .wildcard
        } else if let octets = Self.ipv4Octets(host) {
            self = octets.allSatisfy { $0 == 0 } ? .wildcard : octets[0] == 127 ? .loopback : .routable
        } else if host == "localhost" || host.hasSuffix(".localhost") || Self.isIPv6Loopback(host) {
            self = .loopback
        } else {
            self = .routable
        }
    }

    /// Why a node whose own ring address is `own` refuses a member that asks
    /// to join with `address`, or nil when it admits it: a wildcard address
    /// is refused always, a loopback one unless `own` is loopback too (a
    /// cluster on one machine). Admitting either would hand every other
    /// member an address that leads nowhere or back to itself.
    public static func refusal(ofMember address: Address, joining own: Address) -> String? {
        switch (AddressScope(address: address), AddressScope(address: own)) {
        case (.wildcard, _):
            "its address \(address) is a wildcard, which no node can dial"
        case (.loopback, .wildcard), (.loopback, .routable):
            "its address \(address) is loopback, but this node (\(own)) is not: other hosts cannot reach it"
        default:
            nil
        }
    }

    /// The four octets of a dotted IPv4 literal, or nil.
    private static func ipv4Octets(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { part in part.allSatisfy(\.isASCII) ? UInt8(part) : nil }
        return octets.count == 4 ? octets : nil
    }

    /// Whether an IPv6 literal is `::1` in any of its spellings (zeros, then a final 1).
    private static func isIPv6Loopback(_ host: String) -> Bool {
        guard host.contains(":"), host.hasSuffix("1") else { return false }
        let rest = host.dropLast()
        return rest.hasSuffix(":") && rest.allSatisfy { $0 == "0" || $0 == ":" }
    }
}
