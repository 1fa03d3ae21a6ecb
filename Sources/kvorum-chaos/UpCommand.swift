import ArgumentParser
import Foundation

/// `kvorum-chaos up`: test hosts with a running cluster, for trying faults by
/// hand; Ctrl-C removes everything.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a cluster on test hosts and keep it up until Ctrl-C (for trying faults by hand).",
        discussion: """
            Needs root and iproute2. Prints each host's addresses and the `ip` commands that cut and heal a link \
            between two hosts. Ctrl-C (or SIGTERM) stops the nodes and removes the namespaces and the bridge.
            """
    )

    @OptionGroup var host: HostOptions

    @Option(help: "Directory for the nodes' data and logs.")
    var workDir = "kvorum-chaos-data"

    func run() throws {
        let work = URL(fileURLWithPath: workDir).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let cluster = try host.makeCluster(workDirectory: work)
        let stopped = DispatchSemaphore(value: 0)
        let signals = SignalTrap {
            cluster.shutdown()
            stopped.signal()
        }
        defer {
            cluster.shutdown()
            signals.release()
        }
        try cluster.start()
        for node in cluster.nodes {
            say(
                "\(node.host.name): namespace \(node.host.namespace), peer \(node.peerAddress), http \(host.tls ? "https" : "http")://\(node.http)"
            )
        }
        let (a, b) = (cluster.nodes[0].host, cluster.nodes[1].host)
        say("cut \(a) -> \(b):  ip -n \(a.namespace) route add blackhole \(b.address)/32")
        say("heal it:       ip -n \(a.namespace) route del blackhole \(b.address)/32")
        say("data and logs under \(work); Ctrl-C stops everything")
        stopped.wait()
    }
}
