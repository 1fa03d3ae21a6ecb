import ArgumentParser
import Foundation
import KvorumSimulation

/// `kvorum simulate`: long randomized fault campaigns in the deterministic
/// simulator (docs/campaigns.md). Stops at the first failing seed and prints
/// its violations and its whole trace.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run randomized fault campaigns in the simulator and check their invariants.",
        discussion: """
            Each seed runs a randomized workload (reads, read-modify-writes, blind writes, cart adds) on a \
            5–7 node simulated cluster under random faults (loss, duplication, reordering, long delays, \
            partitions, disconnects, crashes, pauses, JOIN, LEAVE), lets it heal, and checks: no acknowledged write \
            lost, convergence, no false siblings, cart items kept, unique dots, ring placement and agreement, \
            one reply per request. The same seed always gives the same run.
            """
    )

    @Option(help: "How many seeds to run.")
    var seeds: UInt64 = 100

    @Option(help: "The first seed.")
    var from: UInt64 = 1

    @Flag(help: "The test suite's configuration: 24 operations, a 256-partition ring (options below override it).")
    var quick = false

    @Option(help: "Client operations per campaign.")
    var operations: Int?

    @Option(help: "Virtual seconds the cluster heals before the checks.")
    var healTime: Double?

    @Option(help: "Partitions (virtual nodes) of the ring.")
    var partitions: Int?

    @Flag(help: "Turn anti-entropy off (hinted handoff and read repair only).")
    var noAntiEntropy = false

    @Option(
        help: """
            The node model: free (events take no time) or disk-bound (each row an event reads or writes costs \
            time, 0.1 ms a read, and the node is busy meanwhile; docs/architecture.md).
            """)
    var workModel: NodeModel?

    @Flag(help: "Print every campaign's trace as it runs.")
    var trace = false

    @Flag(help: "Keep going after a failing seed and list every failing seed at the end.")
    var keepGoing = false

    func run() throws {
        var config = quick ? CampaignConfig.quick : CampaignConfig()
        if let operations { config.operations = operations }
        if let healTime { config.healTime = healTime }
        if let partitions { config.partitionCount = partitions }
        if noAntiEntropy { config.antiEntropy = false }
        if let workModel { config.workModel = workModel.model }
        config.trace = trace ? .whole : .replayOnFailure
        let started = ContinuousClock.now
        var passed = 0
        var failed: [UInt64] = []
        var operationsRun = 0
        var writes = 0
        var deletes = (sent: 0, reaps: 0)
        var faults = 0
        var virtualTime = 0.0
        let last = from &+ seeds &- 1
        for seed in from...max(from, last) where seeds > 0 {
            let campaign = Campaign(seed: seed, config: config)
            campaign.sim.echoTrace = trace
            let result = campaign.run()
            operationsRun += result.statistics.operations
            writes += result.statistics.writesAcknowledged
            deletes.sent += result.statistics.deletes
            deletes.reaps += result.statistics.reapMessages
            faults += result.statistics.faults.reduce(0) { $0 + $1.count }
            virtualTime += result.statistics.end
            if result.passed {
                passed += 1
            } else {
                failed.append(seed)
                Console.say("seed \(seed): FAILED, \(result.violations.count) violation(s)")
                for violation in result.violations { Console.say("  " + violation.description) }
                if !keepGoing {
                    if !trace {
                        Console.say("--- trace of seed \(seed) ---")
                        for line in result.trace { print(line) }
                    }
                    Console.say("--- seed \(seed): \(result.statistics.summary)")
                    Console.say("reproduce: kvorum simulate --seeds 1 --from \(seed)" + operationsOption + " --trace")
                    summary(passed, failed, operationsRun, writes, deletes, faults, virtualTime, started)
                    throw ExitCode(1)
                }
            }
            let done = passed + failed.count
            if trace || done % 10 == 0 || UInt64(done) == seeds {
                Console.say(
                    "\(done)/\(seeds) seeds, \(failed.count) failed; seed \(seed): \(result.statistics.summary)")
            }
        }
        summary(passed, failed, operationsRun, writes, deletes, faults, virtualTime, started)
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private var operationsOption: String {
        var text = quick ? " --quick" : ""
        if let operations { text += " --operations \(operations)" }
        if let healTime { text += " --heal-time \(healTime)" }
        if let partitions { text += " --partitions \(partitions)" }
        if noAntiEntropy { text += " --no-anti-entropy" }
        if let workModel { text += " --work-model \(workModel.rawValue)" }
        return text
    }

    private func summary(
        _ passed: Int, _ failed: [UInt64], _ operations: Int, _ writes: Int, _ deletes: (sent: Int, reaps: Int),
        _ faults: Int, _ virtualTime: Double, _ started: ContinuousClock.Instant
    ) {
        let wall = ContinuousClock.now - started
        let seconds = wall.inSeconds
        Console.say(
            "summary: \(passed + failed.count) seeds from \(from), \(passed) passed, \(failed.count) failed; "
                + "\(operations) operations, \(writes) acknowledged writes (\(deletes.sent) deletes sent, "
                + "\(deletes.reaps) reap messages), \(faults) faults, "
                + "\(Int(virtualTime)) virtual s in \(String(format: "%.1f", seconds)) s of wall time"
        )
        if !failed.isEmpty {
            Console.say("failing seeds: " + failed.map(String.init).joined(separator: " "))
        }
    }
}

/// The node models `kvorum simulate --work-model` offers.
enum NodeModel: String, CaseIterable, ExpressibleByArgument {
    case free
    case diskBound = "disk-bound"

    var model: WorkModel {
        switch self {
        case .free: .free
        case .diskBound: .diskBound
        }
    }
}
