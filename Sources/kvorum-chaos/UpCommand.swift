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

    @Option(help: "Number of test hosts (each runs one node).")
    var hosts = 5

    @Option(help: "The nodes' durability: process or fsync.")
    var durability = "process"

    @Option(help: "The /24 the hosts live on, as its first three octets.")
    var subnet = "10.213.7"

    @Option(help: "Tag in the names of the namespaces and links (default: from the process id).")
    var tag = String(getpid() % 100_000)

    @Option(help: "Directory for the nodes' data and logs.")
    var workDir = "kvorum-chaos-data"

    @Option(help: "The kvorum executable (default: the one beside kvorum-chaos).")
    var kvorum: String?

    func run() throws {
        let work = URL(fileURLWithPath: workDir).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let cluster = try TestCluster(
            count: hosts, prefix: subnet, tag: tag, workDirectory: work, kvorum: kvorum ?? RunCommand.siblingKvorum(),
            durability: durability)
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
            say("\(node.host.name): namespace \(node.host.namespace), peer \(node.peerAddress), http http://\(node.http)")
        }
        let (a, b) = (cluster.nodes[0].host, cluster.nodes[1].host)
        say("cut \(a) -> \(b):  ip -n \(a.namespace) route add blackhole \(b.address)/32")
        say("heal it:       ip -n \(a.namespace) route del blackhole \(b.address)/32")
        say("data and logs under \(work); Ctrl-C stops everything")
        stopped.wait()
    }
}
