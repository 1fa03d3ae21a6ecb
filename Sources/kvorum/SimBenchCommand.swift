import ArgumentParser
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
        guard let benchmark = SimBenchmark(seed: seed) else { throw ValidationError("the cluster did not form") }
        let clock = ContinuousClock()
        let start = clock.now
        let counts = benchmark.run(events: events)
        let elapsed = clock.now - start
        let seconds = elapsed.inSeconds
        print(
            "simulator: \(counts.events) events (\(counts.requests) client requests, \(counts.messages) messages) "
                + "in \(String(format: "%.2f", seconds)) s = \(Int(Double(counts.events) / seconds)) events/s")
    }
}
