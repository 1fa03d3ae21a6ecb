import ArgumentParser
import Foundation
import KvorumCerts

/// How a test host's node keeps its writes (`kvorum node --durability`).
enum NodeDurability: String, CaseIterable, ExpressibleByArgument {
    case process
    case fsync
}

/// The options of every command that makes test hosts and a cluster on them.
struct HostOptions: ParsableArguments {
    @Option(help: "Number of test hosts (each runs one node).")
    var hosts = 5

    @Option(help: "The nodes' durability: process or fsync.")
    var durability = NodeDurability.process

    @Option(help: "The /24 the hosts live on, as its first three octets.")
    var subnet = "10.213.7"

    @Option(help: "Tag in the names of the namespaces and links (default: from the process id).")
    var tag = String(getpid() % 100_000)

    @Option(help: "The kvorum executable (default: the one beside kvorum-chaos).")
    var kvorum: String?

    @Flag(
        help: """
            TLS: a CA, a certificate per host (for its address) and an admin token are made under WORK/certs; \
            each node runs with --certs-dir (mutual TLS between nodes, HTTPS) and requires the token, which the \
            kit's clients send. Without it the nodes run --insecure.
            """)
    var tls = false

    func validate() throws {
        guard (3...20).contains(hosts) else { throw ValidationError("--hosts must be 3…20") }
        let octets = subnet.split(separator: ".")
        guard octets.count == 3, octets.allSatisfy({ UInt8($0) != nil }) else {
            throw ValidationError("--subnet must be three octets, e.g. 10.213.7")
        }
        guard (1...5).contains(tag.count), tag.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw ValidationError("--tag must be 1…5 letters or digits")
        }
    }

    /// The `kvorum` executable the nodes run.
    var kvorumPath: String { kvorum ?? Self.siblingKvorum() }

    /// Makes the hosts and prepares (does not start) a node on each.
    func makeCluster(workDirectory: String) throws -> TestCluster {
        let security = try tls ? ClusterSecurity(root: URL(fileURLWithPath: workDirectory + "/certs")) : nil
        return try TestCluster(
            count: hosts, prefix: subnet, tag: tag, workDirectory: workDirectory, kvorum: kvorumPath,
            durability: durability, security: security)
    }

    /// `kvorum` in the directory of this executable.
    private static func siblingKvorum() -> String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("kvorum").path
    }
}
