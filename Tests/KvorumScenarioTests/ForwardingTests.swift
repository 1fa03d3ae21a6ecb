import KvorumCore
import KvorumSimulation
import Testing

/// Forwarded writes run at most once, over a network that delivers what a
/// cut held back once the cut heals, as TCP does (`CutModel.holds`).
@Suite("Forwarding at most once")
struct ForwardingTests {
    /// The harness timing, but a cut holds messages for a minute.
    static let network = NetworkConfig(cuts: .holds(limit: 60))

    /// The sequence: a PUT of `old` through a non-replica cut off
    /// from the key's first replica is coordinated by the next one; `new`
    /// overwrites it with the returned context; once the link heals, the
    /// forward the link held reaches the first replica. It must not be
    /// coordinated there again: an r=3 read shows only `new`.
    @Test(arguments: [false, true])
    func lateForwardIsNotRunAgain(forwarderRestarts: Bool) {
        let c = Cluster(nodes: 6, timing: .harness, network: Self.network)
        c.form()
        let key = "late-forward"
        let r = c.replicas(of: key)
        let forwarder = c.nonReplicas(of: key)[0]
        c.sim.cutLink(from: forwarder, to: r[0])
        guard let old = c.put(key, "old", at: forwarder, quorum: 2) else { return }
        guard c.put(key, "new", at: forwarder, quorum: 2, metadata: old) != nil else { return }
        #expect(c.get(key, at: r[1], quorum: 3)?.values == ["new"])
        if forwarderRestarts { c.sim.restart(forwarder) }
        c.sim.restoreLink(from: forwarder, to: r[0])
        c.sim.run(for: 5)
        #expect(c.sim.trace.contains { $0.contains("late \(forwarder) -> \(r[0])") }, "nothing was held")
        guard let read = c.get(key, at: r[1], quorum: 3) else { return }
        if read.values != ["new"] { c.fail("after the heal an r=3 read gives \(read)") }
    }

    /// A network that delivers every message twice: each forwarded write is
    /// still coordinated once, and the client gets one answer.
    @Test func duplicatedForwardsRunOnce() {
        var network = NetworkConfig.harness
        network.duplicateRate = 1
        let c = Cluster(nodes: 5, timing: .harness, network: network)
        c.form()
        let key = "duplicated"
        let forwarder = c.nonReplicas(of: key)[0]
        for value in ["a", "b", "c"] {
            c.put(key, value, at: forwarder, quorum: 3)
            c.sim.run(for: 2)
        }
        for node in c.names {
            let values = c.sim.storage(of: node).record(for: Key(key))?.siblings.values ?? []
            if Set(values).count != values.count { c.fail("\(node) holds \(values) for \(key)") }
        }
        #expect(c.sim.unexpectedReplies == 0)
    }
}
