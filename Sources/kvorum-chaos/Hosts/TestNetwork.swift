import Foundation

/// One test host: a network namespace with one interface on the kit's bridge.
struct TestHost: Hashable, Sendable, CustomStringConvertible {
    /// The host's (and its Kvorum node's) name, `h1`…
    var name: String
    /// The network namespace it lives in.
    var namespace: String
    /// Its address on the kit's /24.
    var address: String

    var description: String { name }
}

/// A directed link between two hosts: what one-way cuts act on.
struct HostLink: Hashable, Sendable {
    var from: TestHost
    var to: TestHost
}

/// The test hosts' network: a bridge in the root namespace holding the first
/// address of a private /24, and one namespace per host joined to it by a
/// veth pair, each with its own address in that /24. The clients of a fault
/// run live in the root namespace and reach every host through the bridge.
///
/// Faults between hosts are blackhole routes inside the namespaces: a route
/// `blackhole PEER/32` in A's namespace drops everything A sends to PEER,
/// while A's traffic to and from the bridge (its clients) is untouched, so
/// a host cut off from its peers still hears its clients.
///
/// The network refuses to start over namespaces, links or an address range
/// that already exist, and `teardown()` removes exactly what it made (also
/// after a partial set-up).
final class TestNetwork {
    /// The first three octets of the /24, e.g. `10.213.7`.
    let prefix: String
    let hosts: [TestHost]
    let bridge: String
    /// Blackholes in place: each directed link that is cut.
    private(set) var cuts: Set<HostLink> = []
    private var namespacesMade: [String] = []
    private var bridgeMade = false

    /// The bridge's address: the source of every client request.
    var bridgeAddress: String { "\(prefix).1" }

    /// Makes the bridge and `count` hosts named `h1`… with addresses
    /// `PREFIX.11`…, under names that start with `kvc` and `tag`.
    init(prefix: String, count: Int, tag: String) throws {
        precondition((1...200).contains(count), "between 1 and 200 hosts")
        self.prefix = prefix
        bridge = "kvc\(tag)br"
        hosts = (1...count).map { index in
            TestHost(name: "h\(index)", namespace: "kvc\(tag)h\(index)", address: "\(prefix).\(10 + index)")
        }
        try Self.refuseExisting(prefix: prefix, namespaces: hosts.map(\.namespace), links: [bridge])
        do {
            try make()
        } catch {
            teardown()
            throw error
        }
    }

    /// Refuses to run over anything that is already there: these namespaces,
    /// these link names, or any address in the /24 on this machine.
    private static func refuseExisting(prefix: String, namespaces: [String], links: [String]) throws {
        let existing = Set(
            try SystemCommand.run("ip", ["netns", "list"]).split(separator: "\n").compactMap {
                $0.split(separator: " ").first.map(String.init)
            })
        if let clash = namespaces.first(where: existing.contains) {
            throw KitError.refused("network namespace \(clash) already exists; remove it or pick another --tag")
        }
        for link in links where (try? SystemCommand.run("ip", ["link", "show", link])) != nil {
            throw KitError.refused("network interface \(link) already exists; remove it or pick another --tag")
        }
        let addresses = try SystemCommand.run("ip", ["-o", "-4", "addr", "show"])
        if addresses.contains(" \(prefix).") {
            throw KitError.refused("addresses in \(prefix).0/24 are already in use here; pick another --subnet")
        }
    }

    private func make() throws {
        try SystemCommand.run("ip", ["link", "add", bridge, "type", "bridge"])
        bridgeMade = true
        try SystemCommand.run("ip", ["addr", "add", "\(bridgeAddress)/24", "dev", bridge])
        try SystemCommand.run("ip", ["link", "set", bridge, "up"])
        for (index, host) in hosts.enumerated() {
            try SystemCommand.run("ip", ["netns", "add", host.namespace])
            namespacesMade.append(host.namespace)
            let outside = vethName(index)
            try SystemCommand.run(
                "ip", ["link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", host.namespace])
            try SystemCommand.run("ip", ["link", "set", outside, "master", bridge, "up"])
            try inside(host, ["addr", "add", "\(host.address)/24", "dev", "eth0"])
            try inside(host, ["link", "set", "eth0", "up"])
            try inside(host, ["link", "set", "lo", "up"])
        }
    }

    /// The root-namespace end of host `index`'s veth pair.
    private func vethName(_ index: Int) -> String { "\(bridge.dropLast(2))v\(index + 1)" }

    /// Runs `ip ARGUMENTS` inside `host`'s namespace.
    @discardableResult
    func inside(_ host: TestHost, _ arguments: [String]) throws -> String {
        try SystemCommand.run("ip", ["-n", host.namespace] + arguments)
    }

    // MARK: - Cuts

    /// Drops everything `link.from` sends to `link.to` (one way).
    func cut(_ link: HostLink) throws {
        guard link.from != link.to, !cuts.contains(link) else { return }
        try inside(link.from, ["route", "add", "blackhole", "\(link.to.address)/32"])
        cuts.insert(link)
    }

    /// Removes the blackhole of `link`.
    func heal(_ link: HostLink) throws {
        guard cuts.contains(link) else { return }
        try inside(link.from, ["route", "del", "blackhole", "\(link.to.address)/32"])
        cuts.remove(link)
    }

    /// Cuts every link between the two groups, both ways.
    func separate(_ left: [TestHost], _ right: [TestHost]) throws {
        for a in left {
            for b in right {
                try cut(HostLink(from: a, to: b))
                try cut(HostLink(from: b, to: a))
            }
        }
    }

    /// Removes every blackhole.
    func healAll() throws {
        for link in cuts.sorted(by: { ($0.from.name, $0.to.name) < ($1.from.name, $1.to.name) }) {
            try heal(link)
        }
    }

    /// Deletes the namespaces (with their veth pairs) and the bridge, and
    /// returns what could not be removed: teardown goes on with the rest.
    @discardableResult
    func teardown() -> [String] {
        var failures: [String] = []
        // The outer veth ends first, by name: a namespace that a closing
        // socket still holds outlives `ip netns del`, and its veth with it.
        for index in namespacesMade.indices.reversed() {
            do { try SystemCommand.run("ip", ["link", "del", vethName(index)]) } catch { failures.append("\(error)") }
        }
        for namespace in namespacesMade.reversed() {
            do { try SystemCommand.run("ip", ["netns", "del", namespace]) } catch { failures.append("\(error)") }
        }
        namespacesMade.removeAll()
        if bridgeMade {
            do { try SystemCommand.run("ip", ["link", "del", bridge]) } catch { failures.append("\(error)") }
            bridgeMade = false
        }
        cuts.removeAll()
        return failures
    }
}

/// Why the kit cannot go on.
enum KitError: Error, CustomStringConvertible {
    /// The machine cannot run the kit (not root, no iproute2).
    case unsupported(String)
    /// The kit would run over something that is not its own.
    case refused(String)
    /// A step did not finish in time or failed.
    case failed(String)

    var description: String {
        switch self {
        case .unsupported(let why): "cannot make test hosts here: \(why)"
        case .refused(let why): "refusing to start: \(why)"
        case .failed(let why): why
        }
    }
}

/// Prints a warning line on standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data("kvorum-chaos: \(text)\n".utf8))
}
