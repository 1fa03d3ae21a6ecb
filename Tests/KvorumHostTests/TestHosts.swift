import Foundation

@testable import kvorum_chaos

/// Test hosts of their own for the host tests: network namespaces
/// `kvr-PID-a`, `kvr-PID-b`…, each with an `eth0` (one end of a veth pair)
/// at 10.213.201.11, .12… on a bridge `kvrPIDbr` in the root namespace. The
/// bridge has no address, so the root namespace gains no route and nothing
/// outside the test hosts can send to or through them.
///
/// `make` refuses to touch namespaces or links that already exist, and
/// `destroy` removes exactly what `make` created, even if `make` stopped
/// halfway.
final class TestHosts {
    /// One host: its namespace and address.
    struct Host {
        var namespace: String
        var address: String
    }

    /// The subnet of the test hosts, apart from the kit's.
    static let subnetPrefix = "10.213.201."

    let hosts: [Host]
    private let bridge: String
    private var createdNamespaces: [String] = []
    private var createdVeths: [String] = []
    private var createdBridge = false

    private init(hosts: [Host], bridge: String) {
        self.hosts = hosts
        self.bridge = bridge
    }

    /// Makes `count` hosts; on failure removes what it made and throws.
    static func make(count: Int) throws -> TestHosts {
        let tag = "kvr\(getpid())"
        let hosts = (0..<count).map { index in
            let letter = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index)))
            return Host(namespace: "kvr-\(getpid())-\(letter)", address: "\(subnetPrefix)\(11 + index)")
        }
        let made = TestHosts(hosts: hosts, bridge: "\(tag)br")
        do {
            try made.create(vethPrefix: tag)
        } catch {
            let cleanup = made.destroy()
            throw NetemError("\(error)" + (cleanup.isEmpty ? "" : "; cleanup: \(cleanup.joined(separator: "; "))"))
        }
        return made
    }

    private func create(vethPrefix: String) throws {
        for host in hosts where FileManager.default.fileExists(atPath: "/run/netns/\(host.namespace)") {
            throw NetemError("namespace \(host.namespace) already exists; not touching it")
        }
        if (try? SystemCommand.run("ip", ["link", "show", "dev", bridge])) != nil {
            throw NetemError("link \(bridge) already exists; not touching it")
        }
        try SystemCommand.run("ip", ["link", "add", bridge, "type", "bridge"])
        createdBridge = true
        try SystemCommand.run("ip", ["link", "set", bridge, "up"])
        for (index, host) in hosts.enumerated() {
            try SystemCommand.run("ip", ["netns", "add", host.namespace])
            createdNamespaces.append(host.namespace)
            let veth = "\(vethPrefix)\(index)"
            try SystemCommand.run(
                "ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host.namespace])
            createdVeths.append(veth)
            try SystemCommand.run("ip", ["link", "set", veth, "master", bridge, "up"])
            try SystemCommand.run("ip", ["-n", host.namespace, "link", "set", "lo", "up"])
            try SystemCommand.run("ip", ["-n", host.namespace, "link", "set", "eth0", "up"])
            try SystemCommand.run("ip", ["-n", host.namespace, "addr", "add", "\(host.address)/24", "dev", "eth0"])
        }
    }

    /// Removes the veth pairs, the namespaces and the bridge; returns what
    /// could not be removed. The veth pairs go first and by name: a namespace
    /// lives on after `ip netns del` while a socket (say a TCP connection
    /// still retransmitting) holds it, and its veth end with it.
    @discardableResult
    func destroy() -> [String] {
        var failures: [String] = []
        for veth in createdVeths {
            do { try SystemCommand.run("ip", ["link", "del", veth]) } catch { failures.append("\(error)") }
        }
        createdVeths = []
        for namespace in createdNamespaces {
            do { try SystemCommand.run("ip", ["netns", "del", namespace]) } catch { failures.append("\(error)") }
        }
        createdNamespaces = []
        if createdBridge {
            do { try SystemCommand.run("ip", ["link", "del", bridge]) } catch { failures.append("\(error)") }
            createdBridge = false
        }
        return failures
    }
}
