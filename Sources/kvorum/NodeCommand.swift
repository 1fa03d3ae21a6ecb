import ArgumentParser
import Foundation
import KvorumCore
import KvorumServer
import KvorumStdio
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `kvorum node`: runs one node. By default a server: peers over TCP, clients
/// over HTTP, data on disk. With `--stdio`, a state machine driven over
/// standard input and output by a foreign harness (docs/stdio-protocol.md).
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one Kvorum node.",
        discussion: """
            Server mode (default): kvorum node --name NAME --listen HOST:PORT --http HOST:PORT --data-dir DIR \
            [--join HOST:PORT]. Peers connect to --listen (also the node's address in the ring); clients use the \
            HTTP API on --http (docs/http-api.md). SIGINT/SIGTERM stop it cleanly.

            Stdio mode: kvorum node --stdio --name NAME --address HOST:PORT. The node reads events as JSON lines \
            on standard input and answers each with one line of effects (docs/stdio-protocol.md); the course \
            harness drives it this way through compat/dslib/node.py.
            """
    )

    @Flag(help: "Be driven over standard input/output (JSON lines) instead of serving TCP/HTTP.")
    var stdio = false

    @Option(help: "The node's name (unique in the cluster).")
    var name: String

    @Option(help: "Stdio mode: the node's peer address, host:port.")
    var address: String?

    @Option(help: "Server mode: host:port to accept peers on; also the node's address in the ring.")
    var listen: String?

    @Option(help: "Server mode: host:port of the HTTP client API.")
    var http: String?

    @Option(help: "Server mode: directory of the node's durable store.")
    var dataDir: String?

    @Option(help: "Server mode: peer address (host:port) of a member to join through.")
    var join: String?

    @Option(help: "Server mode: process (survives a crash of the process) or fsync (also survives power loss).")
    var durability: SQLiteStorage.Durability = .process

    @Option(help: "Server mode: records kept decoded in memory, least recently used evicted first (0: none).")
    var cachedRecords = SQLiteStorage.defaultCachedRecords

    @Option(help: "Timing profile: harness or server (default: harness with --stdio, server otherwise).")
    var profile: NodeConfig.Profile?

    @Option(help: "Seconds a coordinator waits for a replica before turning to a stand-in.")
    var requestTimeout: Double?

    @Option(help: "Seconds between probes of suspected peers.")
    var probeInterval: Double?

    @Option(help: "Seconds between hinted-handoff rounds.")
    var handoffInterval: Double?

    func validate() throws {
        for (option, value) in [
            ("--request-timeout", requestTimeout), ("--probe-interval", probeInterval),
            ("--handoff-interval", handoffInterval),
        ] {
            if let value, !(value > 0 && value.isFinite) {
                throw ValidationError("\(option) must be a positive number of seconds")
            }
        }
        guard cachedRecords >= 0 else { throw ValidationError("--cached-records cannot be negative") }
        if stdio {
            guard address != nil else { throw ValidationError("--stdio needs --address HOST:PORT") }
            return
        }
        for (option, value) in [("--listen", listen), ("--http", http), ("--join", join)] {
            if let value, HostPort.parse(value, allowingAnyPort: true) == nil {
                throw ValidationError("\(option) must be host:port, got '\(value)'")
            }
        }
        guard listen != nil, http != nil, dataDir != nil else {
            throw ValidationError("server mode needs --listen HOST:PORT, --http HOST:PORT and --data-dir DIR")
        }
    }

    func run() async throws {
        if stdio {
            var config = NodeConfig(name: name, address: address!, profile: profile ?? .harness)
            tune(&config)
            StdioDriver(node: KvorumNode(config: config, storage: MemoryStorage())).run()
        } else {
            try await serve()
        }
    }

    private func tune(_ config: inout NodeConfig) {
        if let requestTimeout { config.requestTimeout = requestTimeout }
        if let probeInterval { config.probeInterval = probeInterval }
        if let handoffInterval { config.handoffInterval = handoffInterval }
    }

    private func serve() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var logger = Logger(label: "kvorum")
        logger[metadataKey: "node"] = "\(name)"
        let (listenHost, listenPort) = HostPort.parse(listen!, allowingAnyPort: true)!
        let (httpHost, httpPort) = HostPort.parse(http!, allowingAnyPort: true)!
        var config = NodeConfig(name: name, address: listen!, profile: profile ?? .server)
        tune(&config)
        // Before any metric is created, so every one lands in the registry.
        let renderMetrics = ServerMetrics.bootstrap()
        let storage = try SQLiteStorage(directory: dataDir!, durability: durability, cachedRecords: cachedRecords)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = ServerNode(
            configuration: .init(
                node: config, listenHost: listenHost, listenPort: listenPort, httpHost: httpHost, httpPort: httpPort),
            storage: storage, loop: group.next(), logger: logger)
        server.renderMetrics = renderMetrics
        server.onShutdown = { storage.close() }
        let service = NodeService(server: server, join: join, logger: logger)
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
        try await group.shutdownGracefully()
        logger.info("stopped")
    }
}

/// Runs the server node until a graceful shutdown (SIGINT/SIGTERM), then
/// stops accepting, lets in-flight requests finish and closes the store.
struct NodeService: Service {
    let server: ServerNode
    let join: String?
    let logger: Logger

    func run() async throws {
        try await server.start(joining: join).get()
        logger.info(
            "node up",
            metadata: [
                "peer": "\(server.configuration.node.address)",
                "http": "\(server.configuration.httpHost):\(server.configuration.httpPort)",
            ])
        try? await gracefulShutdown()
        logger.info("shutting down")
        try await server.shutdown().get()
    }
}

extension NodeConfig.Profile: ExpressibleByArgument {}
extension SQLiteStorage.Durability: ExpressibleByArgument {}
