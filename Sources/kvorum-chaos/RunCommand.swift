import ArgumentParser
import Foundation
import KvorumChaos

/// `kvorum-chaos run`: one seeded fault run on test hosts (docs/chaos.md).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the workloads against a cluster on test hosts while a seeded nemesis injects faults.",
        discussion: """
            Needs root and iproute2. Makes --hosts network namespaces on --subnet (a private /24 it owns), starts \
            `kvorum node` in each, runs the set, cart and register workloads from client threads while the nemesis \
            applies and heals faults, heals, waits for convergence, reads every replica's copy of every key, and \
            checks the history. Exit status 0 only if the checker finds no violation and the replicas converged. \
            Everything it made is removed at the end, also on Ctrl-C or a failure.
            """
    )

    @OptionGroup var host: HostOptions

    @Option(help: "Seconds of workload and faults.")
    var seconds = 60.0

    @Option(help: "Seed of the nemesis schedule and the clients' choices.")
    var seed: UInt64 = 1

    @Option(help: "Directory for the nodes' data, their logs and the history (default: a fresh temporary one).")
    var workDir: String?

    @Option(
        parsing: .upToNextOption,
        help: "Kinds of faults (default: all): \(FaultKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var faults: [FaultKind] = FaultKind.allCases

    @Option(help: "Client threads per workload.")
    var clients = 2

    @Option(help: "Seconds a client waits for each answer.")
    var timeout = 2.0

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        let work =
            try workDir
            ?? FileManager.default.url(
                for: .itemReplacementDirectory, in: .userDomainMask,
                appropriateFor: URL(fileURLWithPath: NSTemporaryDirectory()), create: true
            ).path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        // A history judged against nodes that started on an earlier run's
        // data would report that run's writes as phantoms and duplicates.
        if let old = try? FileManager.default.contentsOfDirectory(atPath: "\(work)/data"), !old.isEmpty {
            throw KitError.refused("\(work)/data holds an earlier run's nodes; use a fresh --work-dir")
        }
        let settings = FaultRun.Settings(
            seconds: seconds, seed: seed, workDirectory: work, faults: faults, clientsPerWorkload: clients,
            requestTimeout: timeout)
        let cluster = try host.makeCluster(workDirectory: work)
        let signals = SignalTrap { cluster.shutdown() }
        defer {
            cluster.shutdown()
            signals.release()
        }
        let outcome = try FaultRun(settings: settings).run(cluster: cluster)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(outcome.report), as: UTF8.self))
        } else {
            print(outcome.report.rendered())
        }
        let faultsApplied = FaultKind.allCases.compactMap { kind in
            outcome.faultsApplied[kind].map { "\(kind.rawValue) ×\($0)" }
        }
        say(
            "seed \(seed), \(seconds) s, durability \(host.durability.rawValue); faults applied: "
                + faultsApplied.joined(separator: ", "))
        if let after = outcome.convergedAfter {
            say("replicas converged \(String(format: "%.1f", after)) s after the final heal")
        } else {
            say("replicas did NOT converge within \(settings.convergenceTimeout) s of the final heal")
        }
        say("history: \(outcome.historyPath); node logs: \(work)/logs")
        guard outcome.passed else { throw ExitCode(1) }
    }

}

extension FaultKind: ExpressibleByArgument {}

/// Runs `cleanup` and exits 130 on SIGINT or SIGTERM, so that Ctrl-C never
/// leaves namespaces or processes behind.
final class SignalTrap {
    private var sources: [DispatchSourceSignal] = []

    init(cleanup: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                warn("interrupted: stopping the nodes and removing the test hosts")
                cleanup()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }

    func release() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
