import KvorumCore

/// The workload of `kvorum sim-bench`: six real nodes under quorum reads and
/// writes of 10,000 keys, with random delays and no trace.
///
/// It lives here rather than in the `kvorum` executable, which is compiled
/// without optimization (Package.swift): the loop that makes the requests
/// then costs what it would in any optimized driver.
public final class SimBenchmark {
    /// What one run processed.
    public struct Counts: Sendable {
        /// Events handled by the nodes.
        public var events: Int
        /// Client requests made.
        public var requests: Int
        /// Peer messages sent since the simulation began.
        public var messages: Int
    }

    private let simulation: Simulation
    private let names = (1...6).map { "node0\($0)" }
    private var random: SeededRandom

    /// Adds the nodes and forms the cluster; nil when it does not form.
    /// - Parameter seed: seeds the workload and the network.
    public init?(seed: UInt64) {
        simulation = Simulation(seed: seed, network: NetworkConfig(delay: .uniform(0.01, 0.1)))
        simulation.recordTrace = false
        random = SeededRandom(seed: seed)
        for name in names { simulation.addNode(name: name) }
        guard simulation.formCluster(names, via: "node01") else { return nil }
    }

    /// Makes requests, each at a random node and followed by eight steps,
    /// until at least `events` events have been handled.
    public func run(events: Int) -> Counts {
        let start = simulation.eventsProcessed
        var requests = 0
        while simulation.eventsProcessed - start < events {
            let node = names[random.nextInt(below: names.count)]
            let key = JSON.string("key-\(random.next() % 10_000)")
            let body: JSON =
                random.next() % 2 == 0
                ? ["key": key, "value": "x", "quorum": 2]
                : ["key": key, "quorum": 2]
            simulation.send(ClientRequest(type: body["value"] == nil ? "GET" : "PUT", body: body), to: node)
            requests += 1
            simulation.run(events: 8)
        }
        return Counts(
            events: simulation.eventsProcessed - start, requests: requests, messages: simulation.messagesSent)
    }
}
