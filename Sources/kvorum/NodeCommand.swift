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
            Server mode (default): kvorum node --name NAME --listen HOST:PORT [--advertise HOST:PORT] \
            --http HOST:PORT --data-dir DIR [--join HOST:PORT], or any of these from --config FILE (TOML) or \
            KVORUM_NAME, KVORUM_LISTEN, ... (flags win over the environment, the environment over the file). \
            Peers connect to --listen and know the node by --advertise, its address in the ring (default: \
            --listen, which must then name a concrete host, not 0.0.0.0). Clients use the HTTP API on --http \
            (docs/http-api.md). SIGINT/SIGTERM stop it cleanly. Deploying across hosts: docs/deploy.md.

            Security: with --certs-dir DIR (ca.crt, node.crt, node.key from `kvorum certs`), peers speak \
            mutual TLS and each must hold a certificate of the cluster CA for the name it claims. A node any of \
            whose addresses is not loopback refuses to start without --certs-dir unless given --insecure \
            (docs/security.md).

            Stdio mode: kvorum node --stdio --name NAME --address HOST:PORT. The node reads events as JSON lines \
            on standard input and answers each with one line of effects (docs/stdio-protocol.md); the course \
            harness drives it this way through compat/dslib/node.py.
            """
    )

    @Flag(help: "Be driven over standard input/output (JSON lines) instead of serving TCP/HTTP.")
    var stdio = false

    @Option(help: "Server mode: a TOML file of settings (default: $KVORUM_CONFIG); flags and KVORUM_* override it.")
    var config: String?

    @Option(help: "The node's name (unique in the cluster).")
    var name: String?

    @Option(help: "Stdio mode: the node's peer address, host:port.")
    var address: String?

    @Option(help: "Server mode: host:port to accept peers on (0.0.0.0: every interface).")
    var listen: String?

    @Option(help: "Server mode: host:port the other nodes reach this one at; its ring address (default: --listen).")
    var advertise: String?

    @Option(help: "Server mode: host:port of the HTTP client API.")
    var http: String?

    @Option(
        help: """
            Server mode: host:port of the binary client protocol (docs/binary-protocol.md; default: off). It \
            takes the same credentials and TLS as the HTTP API.
            """)
    var binaryListen: String?

    @Option(help: "Server mode: directory of the node's durable store.")
    var dataDir: String?

    @Option(help: "Server mode: peer address (host:port) of a member to join through.")
    var join: String?

    @Option(help: "Server mode: process (survives a crash of the process) or fsync (also survives power loss).")
    var durability: SQLiteStorage.Durability?

    @Option(
        help: """
            Server mode: records kept decoded in memory, least recently used evicted first (0: none; \
            default \(SQLiteStorage.defaultCachedRecords)).
            """)
    var cachedRecords: Int?

    @Option(help: "Timing profile: harness or server (default: harness with --stdio, server otherwise).")
    var profile: NodeConfig.Profile?

    @Option(help: "Seconds a coordinator waits for a replica before turning to a stand-in.")
    var requestTimeout: Double?

    @Option(help: "Seconds between probes of suspected peers.")
    var probeInterval: Double?

    @Option(help: "Seconds between hinted-handoff rounds.")
    var handoffInterval: Double?

    @Option(help: "Server mode: the largest value a PUT may carry, in bytes (default 1048576, 1 MiB); larger: 413.")
    var maxValueBytes: Int?

    @Option(help: "Server mode: versions of one key past which answers carry a sibling warning (default 25).")
    var siblingWarning: Int?

    @Option(help: "Server mode: versions of one key past which blind writes are refused with 409 (default 100).")
    var siblingLimit: Int?

    @Option(
        help: """
            Server mode: seconds every member must have held a deleted key's tombstones (or nothing of it) before \
            they are reaped (default 3600); longer than any message can stay in flight.
            """)
    var tombstoneGrace: Double?

    @Option(help: "Server mode: seconds between the checks that reap tombstones (default 10).")
    var reapInterval: Double?

    @Option(
        help:
            "Server mode: open HTTP connections; at the limit the idlest is evicted or the new one gets 503 (default 1024)."
    )
    var maxConnections: Int?

    @Option(help: "Server mode: peer connections accepted at once (default 64).")
    var maxPeerConnections: Int?

    @Option(help: "Server mode: seconds a keep-alive HTTP connection may wait for its next request (default 60).")
    var idleTimeout: Double?

    @Option(help: "Server mode: seconds to send a whole request head (or a peer hello); past it: 408 (default 10).")
    var requestHeaderTimeout: Double?

    @Option(help: "Server mode: the largest request head, in bytes (default 16384); larger: 431.")
    var maxHeaderBytes: Int?

    @Option(help: "Server mode: the largest key, list prefix or cursor, in UTF-8 bytes (default 1024); larger: 414.")
    var maxKeyBytes: Int?

    @Option(help: "Server mode: the largest peer frame, in bytes (default 16777216); larger closes the connection.")
    var maxFrameBytes: Int?

    @Option(help: "Server mode: messages queued per unreachable peer; more are dropped (default 10000).")
    var peerQueueLimit: Int?

    @Option(
        help: "Server mode: bytes buffered for a peer that does not read; more messages are dropped (default 33554432)."
    )
    var peerBufferBytes: Int?

    @Option(help: "Server mode: client operations in flight; more get 503 with Retry-After (default 10000).")
    var maxPendingOperations: Int?

    @Option(
        help: ArgumentHelp(
            """
            Server mode: directory of ca.crt, node.crt and node.key (kvorum certs); turns TLS on: peers speak \
            mutual TLS, the HTTP API is HTTPS and checks credentials.
            """, valueName: "dir"))
    var certsDir: String?

    @Flag(help: "Server mode: run without TLS although an address is not loopback (a network you trust).")
    var insecure = false

    @Option(help: "Server mode: seconds between anti-entropy rounds (default 10).")
    var antiEntropyInterval: Double?

    @Option(
        help: """
            Server mode: about how many keys one anti-entropy exchange compares; more differing partitions wait \
            for later rounds (default 2048).
            """)
    var antiEntropyKeyBudget: Int?

    @Option(help: "Server mode: seconds between liveness pings to a quiet member (default 1).")
    var heartbeatInterval: Double?

    @Option(help: "Server mode: seconds of silence after which a member is reported down (default 5).")
    var downAfter: Double?

    @Option(
        help:
            "Server mode: the least level logged: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: Logger.Level?

    @Option(help: "Server mode: text or json (one JSON object per line) on standard error (default text).")
    var logFormat: LogFormat?

    /// Stdio mode only; server mode checks its settings once resolved (`ServerSettings.resolve`).
    func validate() throws {
        guard stdio else { return }
        guard name != nil, address != nil else {
            throw ValidationError("--stdio needs --name NAME and --address HOST:PORT")
        }
        guard config == nil else { throw ValidationError("--config is for server mode, not --stdio") }
        for (option, value) in [
            ("--request-timeout", requestTimeout), ("--probe-interval", probeInterval),
            ("--handoff-interval", handoffInterval),
        ] {
            if let value, !(value > 0 && value.isFinite) {
                throw ValidationError("\(option) must be a positive number of seconds")
            }
        }
    }

    func run() async throws {
        if stdio {
            var config = NodeConfig(name: name!, address: address!, profile: profile ?? .harness)
            if let requestTimeout { config.requestTimeout = requestTimeout }
            if let probeInterval { config.probeInterval = probeInterval }
            if let handoffInterval { config.handoffInterval = handoffInterval }
            StdioDriver(node: KvorumNode(config: config, storage: MemoryStorage())).run()
        } else {
            try await serve(resolveSettings())
        }
    }

    /// The settings from the config file, the environment and the flags.
    private func resolveSettings() throws -> ServerSettings {
        let environment = ProcessInfo.processInfo.environment
        var file: (path: String, text: String)?
        if let path = ServerSettings.configPath(flag: config, environment: environment) {
            do {
                file = (path, try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                throw SettingsError("cannot read the config file \(path): \(error.localizedDescription)")
            }
        }
        return try ServerSettings.resolve(configFile: file, environment: environment, flags: flags)
    }

    /// What the command line gives of the server settings.
    private var flags: SettingsLayer {
        var options = SettingsLayer()
        options.name = name
        options.listen = listen
        options.advertise = advertise
        options.http = http
        options.binaryListen = binaryListen
        options.dataDir = dataDir
        options.join = join
        options.durability = durability
        options.cachedRecords = cachedRecords
        options.profile = profile
        options.requestTimeout = requestTimeout
        options.probeInterval = probeInterval
        options.handoffInterval = handoffInterval
        options.maxValueBytes = maxValueBytes
        options.siblingWarning = siblingWarning
        options.siblingLimit = siblingLimit
        options.tombstoneGrace = tombstoneGrace
        options.reapInterval = reapInterval
        options.maxConnections = maxConnections
        options.maxPeerConnections = maxPeerConnections
        options.idleTimeout = idleTimeout
        options.requestHeaderTimeout = requestHeaderTimeout
        options.maxHeaderBytes = maxHeaderBytes
        options.maxKeyBytes = maxKeyBytes
        options.maxFrameBytes = maxFrameBytes
        options.peerQueueLimit = peerQueueLimit
        options.peerBufferBytes = peerBufferBytes
        options.maxPendingOperations = maxPendingOperations
        options.certsDir = certsDir
        options.insecure = insecure ? true : nil
        options.antiEntropyInterval = antiEntropyInterval
        options.antiEntropyKeyBudget = antiEntropyKeyBudget
        options.heartbeatInterval = heartbeatInterval
        options.downAfter = downAfter
        options.logLevel = logLevel
        options.logFormat = logFormat
        return options
    }

    private func serve(_ settings: ServerSettings) async throws {
        let peerTLS = try settings.certsDir.map { directory in
            try NodeTLS.load(directory: directory, nodeName: settings.name)
        }
        LoggingSystem.bootstrap { _ in NodeLogHandler(level: settings.logLevel, format: settings.logFormat) }
        var logger = Logger(label: "kvorum")
        logger[metadataKey: "node"] = "\(settings.name)"
        // Before any metric is created, so every one lands in the registry.
        let renderMetrics = ServerMetrics.bootstrap()
        FileDescriptorLimit.raise(for: settings.limits, logger: logger)
        let httpTLS = peerTLS.map(HTTPTLS.init(node:))
        var configuration = settings.serverConfiguration
        let storage = try SQLiteStorage(
            directory: settings.dataDir, durability: settings.durability, cachedRecords: settings.cachedRecords,
            partitionCount: configuration.node.partitionCount
        ) { work, done, total in
            let message: Logger.Message =
                switch work {
                case .converting: "converting the store"
                case .summing: "summing the partition digests after an unclean stop"
                }
            logger.notice(message, metadata: ["records": "\(done)", "of": "\(total)"])
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        configuration.node.identity = storage.identity
        configuration.httpTLS = httpTLS
        configuration.access = settings.access
        configuration.peerTLS = peerTLS
        if let peerTLS {
            logger.info(
                "peer TLS on", metadata: ["certs-dir": "\(settings.certsDir!)", "expires": "\(peerTLS.expires)"])
        } else if settings.insecure {
            logger.warning("running without TLS (--insecure): anyone who can reach the ports can use them")
        }
        let server = ServerNode(configuration: configuration, storage: storage, loop: group.next(), logger: logger)
        server.renderMetrics = renderMetrics
        server.onShutdown = { storage.close() }
        let service = NodeService(server: server, join: settings.join, logger: logger)
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
                "listen": "\(server.configuration.listenHost):\(server.configuration.listenPort)",
                "http": "\(server.configuration.httpHost):\(server.configuration.httpPort)",
                "binary": "\(server.configuration.binary.map { HostPort.join(host: $0.host, port: $0.port) } ?? "off")",
            ])
        try? await gracefulShutdown()
        logger.info("shutting down")
        try await server.shutdown().get()
    }
}

extension NodeConfig.Profile: ExpressibleByArgument {}
extension SQLiteStorage.Durability: ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
