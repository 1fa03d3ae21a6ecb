import Foundation

/// The routing that sends a host's packets for chosen peers through a relay's
/// TUN device, and lets what the relay writes back leave by the real
/// interface. Run against a namespace (`ip -n`), never the caller's own.
///
/// - Packets the host itself sends (policy routing sees them as `iif lo`)
///   look up `table` first (rule `iif lo lookup TABLE` at `rulePriority`),
///   which holds one route per affected peer: `PEER dev DEVICE src OWN`.
///   Peers without such a route fall through to the main table as before.
/// - What the relay writes back enters through the device (`iif DEVICE`), so
///   the rule does not match it and the main table sends it out of the LAN
///   interface. For the kernel that is forwarding a packet with a local
///   source address, which it allows only with `forwarding` and
///   `accept_local` on the device and reverse-path filtering off (both on
///   the device and in `all`, as the kernel uses the larger value).
///
/// Nothing in the main table changes, so `remove()` (the rule, then the
/// table) restores direct routing exactly; connections keep working, as
/// their next packet is routed afresh. If the relay dies, its device and the
/// table's routes vanish with it and traffic goes direct again.
///
/// Only the host's outgoing packets pass the relay: the delay of packets it
/// receives comes from the sender's relay. Two links in one namespace need
/// their own devices and tables.
struct NetemLink: Sendable {
    /// The network namespace (`ip netns` name) of the host.
    var namespace: String
    /// The relay's TUN device in that namespace.
    var device: String
    /// The host's own address, the source of the packets it sends through the device.
    var ownAddress: String
    /// The routing table that holds the routes through the device.
    var table = 7_700
    /// The priority of the rule that sends the host's own packets to `table`.
    var rulePriority = 1_000

    /// Prepares the device and the rule, and routes the packets for `peers`
    /// (addresses such as `10.213.7.12`) through the device. Call once the
    /// relay's device exists; calling again adds peers.
    func install(peers: [String]) throws {
        let reversePathFilter = try sysctl(read: "net.ipv4.conf.all.rp_filter")
        guard reversePathFilter == "0" else {
            throw NetemError(
                "net.ipv4.conf.all.rp_filter is \(reversePathFilter) in \(namespace): the kernel would drop the "
                    + "packets the relay writes back (their source is local); set it to 0 there first")
        }
        try sysctl(
            write: [
                "net.ipv6.conf.\(device).disable_ipv6": "1", "net.ipv4.conf.\(device).rp_filter": "0",
                "net.ipv4.conf.\(device).accept_local": "1", "net.ipv4.conf.\(device).forwarding": "1",
            ])
        try ip(["link", "set", "dev", device, "up"])
        for peer in peers {
            try ip(["route", "replace", "\(peer)/32", "dev", device, "src", ownAddress, "table", "\(table)"])
        }
        if try !hasRule() {
            try ip(["rule", "add", "iif", "lo", "lookup", "\(table)", "priority", "\(rulePriority)"])
        }
    }

    /// Routes the packets for `peers` directly again; other peers stay on the relay.
    func withdraw(peers: [String]) throws {
        let routed = Set(try routedPeers())
        for peer in peers where routed.contains(peer) {
            try ip(["route", "del", "\(peer)/32", "table", "\(table)"])
        }
    }

    /// Removes the rule and every route through the device: the host routes
    /// as if the link had never been installed. Safe to call when the relay
    /// has already exited or nothing was installed.
    func remove() throws {
        if try hasRule() {
            try ip(["rule", "del", "iif", "lo", "lookup", "\(table)", "priority", "\(rulePriority)"])
        }
        if try !routedPeers().isEmpty {
            try ip(["route", "flush", "table", "\(table)"])
        }
    }

    /// The peers whose packets `table` sends through the device.
    func routedPeers() throws -> [String] {
        // `table all` also lists tables that do not exist yet, unlike `table N`.
        try ip(["-o", "-4", "route", "show", "table", "all"]).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            let inTable = zip(words, words.dropFirst()).contains { $0 == "table" && $1 == "\(table)" }
            return inTable ? words.first.map(String.init) : nil
        }
    }

    private func hasRule() throws -> Bool {
        let shown = try ip(["rule", "show", "iif", "lo", "table", "\(table)", "priority", "\(rulePriority)"])
        return !shown.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    @discardableResult
    private func ip(_ arguments: [String]) throws -> String {
        try SystemCommand.run("ip", ["-n", namespace] + arguments)
    }

    private func sysctl(read key: String) throws -> String {
        try SystemCommand.run("ip", ["netns", "exec", namespace, "sysctl", "-n", key])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func sysctl(write settings: KeyValuePairs<String, String>) throws {
        let assignments = settings.map { "\($0.key)=\($0.value)" }
        try SystemCommand.run("ip", ["netns", "exec", namespace, "sysctl", "-q", "-w"] + assignments)
    }
}
