import KvorumCore

/// The heartbeat's view of each peer as Prometheus text
/// (docs/operations.md): whether it is up, how long since it was heard
/// from, and its last ping round trip. A series is left out while its
/// value is unknown (a peer never heard from, never pinged).
struct PeerMetrics {
    let members: [MemberStatus]

    var text: String {
        let peers = members.filter { !$0.isSelf }
        var out = """
            # HELP kvorum_peer_up Whether this node sees the peer up (1) or suspected, down, joining or leaving (0).
            # TYPE kvorum_peer_up gauge

            """
        for peer in peers { out += "kvorum_peer_up{peer=\"\(label(peer.name))\"} \(peer.state == .up ? 1 : 0)\n" }
        out += """
            # HELP kvorum_peer_last_heard_seconds Seconds since this node last received any message from the peer.
            # TYPE kvorum_peer_last_heard_seconds gauge

            """
        for peer in peers {
            guard let seconds = peer.lastHeardSeconds else { continue }
            out += "kvorum_peer_last_heard_seconds{peer=\"\(label(peer.name))\"} \(seconds)\n"
        }
        out += """
            # HELP kvorum_peer_rtt_seconds Round trip of the last ping to the peer that was answered, in seconds.
            # TYPE kvorum_peer_rtt_seconds gauge

            """
        for peer in peers {
            guard let seconds = peer.roundTripSeconds else { continue }
            out += "kvorum_peer_rtt_seconds{peer=\"\(label(peer.name))\"} \(seconds)\n"
        }
        return out
    }

    /// A label value with `\`, `"` and newlines escaped, as the text format asks.
    private func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
