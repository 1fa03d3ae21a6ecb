/// `host:port` text, as peers and listeners are given on the command line and
/// in the protocol: the last colon separates the port. An IPv6 host is
/// written in brackets (`[::1]:7700`, `[::]:7700`).
public enum HostPort {
    /// The host (without an IPv6 literal's brackets, as sockets take it) and
    /// port, or nil when the text is not `host:port`. Port 0 ("any free
    /// port") is accepted only with `allowingAnyPort`.
    public static func parse(_ text: String, allowingAnyPort: Bool = false) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), colon > text.startIndex,
            let port = Int(text[text.index(after: colon)...]), ((allowingAnyPort ? 0 : 1)...65535).contains(port)
        else { return nil }
        let host = text[..<colon]
        guard host.first == "[" && host.last == "]" else { return (String(host), port) }
        guard host.count > 2 else { return nil }
        return (String(host.dropFirst().dropLast()), port)
    }

    /// `host:port`, with an IPv6 literal in brackets.
    public static func join(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
