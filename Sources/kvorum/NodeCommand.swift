import ArgumentParser
import KvorumCore
import KvorumStdio

/// `kvorum node`: runs one node. With `--stdio` the node is driven over
/// standard input and output by a foreign harness (docs/stdio-protocol.md).
struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one Kvorum node.",
        discussion: """
            With --stdio, the node reads events as JSON lines on standard input and answers \
            each with one line of effects on standard output (docs/stdio-protocol.md); \
            the course harness drives it this way through compat/dslib/node.py.
            """
    )

    @Flag(help: "Be driven over standard input/output (JSON lines).")
    var stdio = false

    @Option(help: "The node's name (unique in the cluster).")
    var name: String

    @Option(help: "The node's peer address, host:port.")
    var address: String

    @Option(help: "Timing profile: harness or server.")
    var profile: NodeConfig.Profile = .harness

    @Option(help: "Seconds a coordinator waits for a replica before turning to a stand-in.")
    var requestTimeout: Double?

    @Option(help: "Seconds between probes of suspected peers.")
    var probeInterval: Double?

    @Option(help: "Seconds between hinted-handoff rounds.")
    var handoffInterval: Double?

    func validate() throws {
        guard stdio else {
            throw ValidationError("only --stdio mode exists so far; the TCP/HTTP server is issue 4")
        }
        for (option, value) in [
            ("--request-timeout", requestTimeout), ("--probe-interval", probeInterval),
            ("--handoff-interval", handoffInterval),
        ] {
            if let value, !(value > 0 && value.isFinite) {
                throw ValidationError("\(option) must be a positive number of seconds")
            }
        }
    }

    func run() throws {
        var config = NodeConfig(name: name, address: address, profile: profile)
        if let requestTimeout { config.requestTimeout = requestTimeout }
        if let probeInterval { config.probeInterval = probeInterval }
        if let handoffInterval { config.handoffInterval = handoffInterval }
        StdioDriver(node: KvorumNode(config: config, storage: MemoryStorage())).run()
    }
}

extension NodeConfig.Profile: ExpressibleByArgument {}
