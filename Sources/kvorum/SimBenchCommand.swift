import ArgumentParser
import KvorumCore
import KvorumSimulation

/// `kvorum sim-bench`: how many events per second the deterministic simulator
/// processes on a realistic load (six real nodes, quorum reads and writes,
/// random delays), without recording a trace.
struct SimBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim-bench",
        abstract: "Measure simulator throughput (events per second) on a 6-node quorum workload.",
        discussion: "Build in release for meaningful figures: swift build -c release && .build/release/kvorum sim-bench"
    )

    @Option(help: "Events to process (after forming the cluster).")
    var events = 1_000_000

    @Option(help: "Seed of the workload and the network.")
    var seed: UInt64 = 1

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
    }

    func run() throws {
        let sim = Simulation(seed: seed, network: NetworkConfig(delay: .uniform(0.01, 0.1)))
        sim.recordTrace = false
        let names = (1...6).map { "node0\($0)" }
        for name in names { sim.addNode(name: name) }
        guard sim.formCluster(names, via: "node01") else { throw ValidationError("the cluster did not form") }
        var random = SeededRandom(seed: seed)
        let start = sim.eventsProcessed
        let clock = ContinuousClock()
        var requests = 0
        let elapsed = clock.measure {
            while sim.eventsProcessed - start < events {
                let node = names[random.nextInt(below: names.count)]
                let key = JSON.string("key-\(random.next() % 10_000)")
                let body: JSON =
                    random.next() % 2 == 0
                    ? ["key": key, "value": "x", "quorum": 2]
                    : ["key": key, "quorum": 2]
                sim.send(ClientRequest(type: body["value"] == nil ? "GET" : "PUT", body: body), to: node)
                requests += 1
                sim.run(events: 8)
            }
        }
        let processed = sim.eventsProcessed - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "simulator: \(processed) events (\(requests) client requests, \(sim.messagesSent) messages) "
                + "in \(String(format: "%.2f", seconds)) s = \(Int(Double(processed) / seconds)) events/s")
    }
}
