import Foundation

/// A Kvorum cluster on test hosts: the network and one node per host.
/// `shutdown()` stops every node it started and removes the network; it is
/// safe to call more than once and from a signal handler's queue.
final class TestCluster: @unchecked Sendable {
    let network: TestNetwork
    let nodes: [HostNode]
    let workDirectory: String
    private let lock = NSLock()
    private var down = false
    /// Relays running on hosts, by host name: stopped by `stopNetem` or at shutdown.
    private var relays: [String: NetemHostRelay] = [:]

    /// Makes `count` hosts on `prefix`.0/24 and prepares (does not start) a
    /// node on each.
    /// With `security`, every node runs with TLS (peers and HTTPS), its
    /// certificate issued for its host's address, and requires the kit's token.
    init(
        count: Int, prefix: String, tag: String, workDirectory: String, kvorum: String, durability: NodeDurability,
        security: ClusterSecurity? = nil
    ) throws {
        try Self.checkMachine(kvorum: kvorum)
        network = try TestNetwork(prefix: prefix, count: count, tag: tag)
        self.workDirectory = workDirectory
        nodes = network.hosts.map {
            HostNode(
                host: $0, workDirectory: workDirectory, kvorum: kvorum, durability: durability,
                security: security)
        }
    }

    /// Whether this machine can make test hosts; the reason when it cannot.
    static func unsupportedReason() -> String? {
        if getuid() != 0 { return "network namespaces need root (running as uid \(getuid()))" }
        if SystemCommand.locate("ip") == nil { return "iproute2's `ip` is not installed (apt-get install iproute2)" }
        return nil
    }

    private static func checkMachine(kvorum: String) throws {
        if let reason = unsupportedReason() { throw KitError.unsupported(reason) }
        guard FileManager.default.isExecutableFile(atPath: kvorum) else {
            throw KitError.unsupported("no kvorum executable at \(kvorum) (swift build, or pass --kvorum PATH)")
        }
    }

    /// Starts the first node alone, then every other one joining it, and
    /// waits until every node lists every member.
    func start(timeout: Double = 60) throws {
        try nodes[0].start(joining: nil)
        try wait("\(nodes[0].host) is ready", timeout: timeout) { self.nodes[0].api(timeout: 1).ready() }
        for node in nodes.dropFirst() { try node.start(joining: nodes[0]) }
        try waitForMembership(timeout: timeout)
    }

    /// Waits until every node lists exactly every node (by its current name)
    /// as a member.
    func waitForMembership(timeout: Double) throws {
        let expected = nodes.map(\.name).sorted()
        try wait("every node lists \(expected.joined(separator: " "))", timeout: timeout) {
            self.nodes.allSatisfy { $0.api(timeout: 1).members()?.sorted() == expected }
        }
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` seconds
    /// pass; then fails naming what it waited for.
    func wait(_ what: String, timeout: Double, until condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw KitError.failed("timed out after \(timeout) s waiting until \(what)") }
            usleep(100_000)
        }
    }

    /// Passes everything `host` sends to its peers through a relay with
    /// `parameters` (delay, jitter, loss, duplication, reordering).
    func startNetem(on host: TestHost, parameters: NetemParameters, seed: UInt64) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !down, relays[host.name] == nil else { return }
        relays[host.name] = try NetemHostRelay.start(
            namespace: host.namespace, ownAddress: host.address,
            peers: network.hosts.filter { $0 != host }.map(\.address), parameters: parameters, seed: seed)
    }

    /// Takes `host`'s relay away: its packets go direct again.
    func stopNetem(on host: TestHost) throws {
        lock.lock()
        let relay = relays.removeValue(forKey: host.name)
        lock.unlock()
        _ = try relay?.stop()
    }

    /// Stops every relay and every node (resuming paused ones first) and
    /// removes the network.
    func shutdown() {
        lock.lock()
        defer { lock.unlock() }
        guard !down else { return }
        down = true
        for host in relays.keys.sorted() {
            do { _ = try relays[host]!.stop() } catch { warn("stopping the relay on \(host): \(error)") }
        }
        relays.removeAll()
        for node in nodes { node.stop() }
        for failure in network.teardown() { warn(failure) }
    }
}
