import KvorumCore
import Logging

/// Everything a server node runs with, resolved from its sources in this
/// order, the first that gives a setting winning: command-line flags,
/// `KVORUM_…` environment variables, the config file, the defaults.
///
/// The node listens for peers on `listen` and is known to them, in the ring
/// and in every peer hello, by `advertise`. `advertise` defaults to `listen`
/// when that names a concrete host; a wildcard (`0.0.0.0`, `::`) can be
/// listened on but never dialed, so it is never advertised. A loopback
/// advertise address is refused when the node joins through a non-loopback
/// contact: the other hosts could not reach it.
public struct ServerSettings: Sendable, Equatable {
    public var name: String
    /// Where peers connect: the host (possibly a wildcard) and port to bind.
    public var listen: String
    /// The peer address the other nodes dial and the ring holds.
    public var advertise: String
    /// Where the HTTP client API listens.
    public var http: String
    /// Where the binary client protocol listens (docs/binary-protocol.md);
    /// nil: it is off.
    public var binaryListen: String? = nil
    public var dataDir: String
    /// A member's peer address to join through, if any.
    public var join: String?
    public var durability: SQLiteStorage.Durability
    public var cachedRecords: Int
    public var profile: NodeConfig.Profile
    /// Overrides of the profile's timings, in seconds.
    public var requestTimeout: Double?
    public var probeInterval: Double?
    public var handoffInterval: Double?
    /// The largest value (request body) a PUT may carry, in bytes.
    public var maxValueBytes: Int
    /// Overrides of the core's sibling bounds (`SiblingBounds`): past
    /// `siblingWarning` versions answers warn, past `siblingLimit` blind
    /// writes are refused.
    public var siblingWarning: Int?
    public var siblingLimit: Int?
    /// Overrides of the core's reaping (`Reaping`): the grace period and
    /// the interval between checks, in seconds.
    public var tombstoneGrace: Double? = nil
    public var reapInterval: Double? = nil
    /// The bounds on connections, time, sizes and queues (docs/limits.md).
    public var limits = NodeLimits()
    /// The certificate directory (`ca.crt`, `node.crt`, `node.key`): with
    /// one, peers speak mutual TLS (`NodeTLS`) and the HTTP API is HTTPS.
    public var certsDir: String? = nil
    /// The credentials of the HTTP API's clients (the config file's `[auth]`).
    public var access = AccessList()
    /// Whether the operator chose to run without TLS off loopback.
    public var insecure = false
    /// Override of the profile's seconds between anti-entropy rounds.
    public var antiEntropyInterval: Double? = nil
    /// Override of the core's keys compared per anti-entropy exchange
    /// (`NodeConfig.antiEntropyKeyBudget`, docs/operations.md).
    public var antiEntropyKeyBudget: Int? = nil
    /// Overrides of the profile's heartbeat: seconds between liveness pings,
    /// and seconds of silence after which a peer is down (docs/operations.md).
    public var heartbeatInterval: Double? = nil
    public var downAfter: Double? = nil
    /// The least level the node logs, and how it writes its lines (docs/operations.md).
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .text

    /// The default of `maxValueBytes`: 1 MiB.
    public static let defaultMaxValueBytes = 1 << 20

    /// The core's configuration: the profile's timings with the overrides applied.
    public var nodeConfig: NodeConfig {
        var config = NodeConfig(name: name, address: advertise, profile: profile)
        if let requestTimeout { config.requestTimeout = requestTimeout }
        if let probeInterval { config.probeInterval = probeInterval }
        if let handoffInterval { config.handoffInterval = handoffInterval }
        config.siblings = SiblingBounds(
            warning: siblingWarning ?? config.siblings.warning, limit: siblingLimit ?? config.siblings.limit)
        if let tombstoneGrace { config.reaping.grace = tombstoneGrace }
        if let reapInterval { config.reaping.interval = reapInterval }
        if let antiEntropyInterval { config.antiEntropyInterval = antiEntropyInterval }
        if let antiEntropyKeyBudget { config.antiEntropyKeyBudget = antiEntropyKeyBudget }
        if let heartbeatInterval { config.heartbeatInterval = heartbeatInterval }
        if let downAfter { config.downAfter = downAfter }
        config.httpAddress = Self.reachableHTTP(http, advertise: advertise)
        return config
    }

    /// The HTTP address peers report in their status tables: `http`, with
    /// a wildcard host replaced by the advertised peer host.
    static func reachableHTTP(_ http: String, advertise: String) -> String {
        guard AddressScope(address: http) == .wildcard, let port = HostPort.parse(http, allowingAnyPort: true)?.port,
            let colon = advertise.lastIndex(of: ":")
        else { return http }
        return "\(advertise[..<colon]):\(port)"
    }

    /// The server's configuration: the core's, and where to listen.
    public var serverConfiguration: ServerNode.Configuration {
        let (listenHost, listenPort) = HostPort.parse(listen, allowingAnyPort: true)!
        let (httpHost, httpPort) = HostPort.parse(http, allowingAnyPort: true)!
        var configuration = ServerNode.Configuration(
            node: nodeConfig, listenHost: listenHost, listenPort: listenPort, httpHost: httpHost, httpPort: httpPort,
            maxValueBytes: maxValueBytes, limits: limits)
        configuration.binary = binaryListen.flatMap { HostPort.parse($0, allowingAnyPort: true) }
        return configuration
    }

    /// The config file to read: `--config`, else `KVORUM_CONFIG`, else none.
    public static func configPath(flag: String?, environment: [String: String]) -> String? {
        if let flag { return flag }
        guard let path = environment[configVariable], !path.isEmpty else { return nil }
        return path
    }

    /// `environment` without the variables a node takes settings from
    /// (`KVORUM_CONFIG` and each setting's), for starting nodes that get
    /// every setting as a flag, as `kvorum cluster up` does.
    public static func withoutNodeSettings(_ environment: [String: String]) -> [String: String] {
        let read = Set(NodeSetting.allCases.map(\.environmentVariable) + [configVariable])
        return environment.filter { !read.contains($0.key) }
    }

    /// The environment variable naming the config file.
    public static let configVariable = "KVORUM_CONFIG"

    /// Resolves a node's settings from its config file (if any), its
    /// environment and its flags. Pure: the caller reads the file.
    ///
    /// - Throws: the first setting that is missing, malformed or unusable,
    ///   named as its source spells it (`--listen`, `KVORUM_LISTEN`, `listen`
    ///   in the file), with what to do about it.
    public static func resolve(
        configFile: (path: String, text: String)?, environment: [String: String], flags: SettingsLayer
    ) throws(SettingsError) -> ServerSettings {
        var file = SettingsLayer()
        var access = AccessList()
        if let configFile {
            file = try SettingsLayer(configFile: configFile.text, path: configFile.path)
            access = try AccessList(configFile: configFile.text, path: configFile.path)
        }
        let origins = Origins(
            flags: flags, environment: try SettingsLayer(environment: environment), file: file,
            path: configFile?.path)
        let options = origins.file.overridden(by: origins.environment).overridden(by: origins.flags)
        var settings = try Resolution(options: options, origins: origins).settings()
        settings.access = access
        return settings
    }
}

/// Which source gave each setting, to name it in messages as that source spells it.
private struct Origins {
    let flags: SettingsLayer
    let environment: SettingsLayer
    let file: SettingsLayer
    let path: String?

    /// `setting` with its value, as its winning source spells it.
    func describe(_ setting: NodeSetting, _ value: String) -> String {
        if flags.sets(setting) { return setting.kind == .boolean ? setting.flag : "\(setting.flag) \(value)" }
        if environment.sets(setting) { return "\(setting.environmentVariable)=\(value)" }
        if let path, file.sets(setting) {
            let written = setting.kind == .text ? "\"\(value)\"" : value
            return "\(setting.fileKey) = \(written) (in \(path))"
        }
        return "\(setting.rawValue) \(value)"
    }

    /// How to give a missing setting.
    static func ways(_ setting: NodeSetting) -> String {
        "\(setting.flag) (or \(setting.environmentVariable), or '\(setting.fileKey)' in the --config file)"
    }
}

/// The checks from merged options to settings.
private struct Resolution {
    let options: SettingsLayer
    let origins: Origins

    func settings() throws(SettingsError) -> ServerSettings {
        let required: [(NodeSetting, String?)] = [
            (.name, options.name), (.listen, options.listen), (.http, options.http), (.dataDir, options.dataDir),
        ]
        let missing = required.filter { $0.1 == nil || $0.1!.isEmpty }.map { Origins.ways($0.0) }
        if !missing.isEmpty {
            throw SettingsError("a server node needs " + missing.joined(separator: "; "))
        }
        let listen = try address(.listen, options.listen!, anyPort: true)
        let http = try address(.http, options.http!, anyPort: true)
        let binary = try options.binaryListen.map { text throws(SettingsError) in
            try address(.binaryListen, text, anyPort: true)
        }
        let join = try options.join.map { text throws(SettingsError) in try address(.join, text, anyPort: false) }
        try checkNumbers()
        let advertise = try advertisedAddress(listen: listen)
        if let join {
            try checkReachable(advertise: advertise, contact: join)
        }
        try checkSecurity(listen: listen, advertise: advertise, http: http, binary: binary)
        var settings = ServerSettings(
            name: options.name!, listen: listen, advertise: advertise, http: http, dataDir: options.dataDir!,
            join: join, durability: options.durability ?? .process,
            cachedRecords: options.cachedRecords ?? SQLiteStorage.defaultCachedRecords,
            profile: options.profile ?? .server, requestTimeout: options.requestTimeout,
            probeInterval: options.probeInterval, handoffInterval: options.handoffInterval,
            maxValueBytes: options.maxValueBytes ?? ServerSettings.defaultMaxValueBytes,
            siblingWarning: options.siblingWarning, siblingLimit: options.siblingLimit,
            tombstoneGrace: options.tombstoneGrace, reapInterval: options.reapInterval, limits: limits,
            certsDir: options.certsDir, insecure: options.insecure ?? false,
            antiEntropyInterval: options.antiEntropyInterval, antiEntropyKeyBudget: options.antiEntropyKeyBudget,
            heartbeatInterval: options.heartbeatInterval, downAfter: options.downAfter,
            logLevel: options.logLevel ?? .info,
            logFormat: options.logFormat ?? .text)
        settings.binaryListen = binary
        return settings
    }

    /// The limits, each from the options or its default.
    private var limits: NodeLimits {
        var limits = NodeLimits()
        if let value = options.maxConnections { limits.maxConnections = value }
        if let value = options.maxPeerConnections { limits.maxPeerConnections = value }
        if let value = options.idleTimeout { limits.idleTimeout = value }
        if let value = options.requestHeaderTimeout { limits.requestHeaderTimeout = value }
        if let value = options.maxHeaderBytes { limits.maxHeaderBytes = value }
        if let value = options.maxKeyBytes { limits.maxKeyBytes = value }
        if let value = options.maxFrameBytes { limits.maxFrameBytes = value }
        if let value = options.peerQueueLimit { limits.peerQueueLimit = value }
        if let value = options.peerBufferBytes { limits.peerBufferBytes = value }
        if let value = options.maxPendingOperations { limits.maxPendingOperations = value }
        return limits
    }

    /// Secure by default: a node reachable from other hosts (any of its
    /// addresses not loopback) needs certificates, unless `insecure` says
    /// to run without; asking for both is a contradiction.
    private func checkSecurity(listen: String, advertise: String, http: String, binary: String?)
        throws(SettingsError)
    {
        let insecure = options.insecure ?? false
        if let certsDir = options.certsDir {
            guard !insecure else {
                throw SettingsError(
                    "\(origins.describe(.certsDir, certsDir)) turns TLS on and \(origins.describe(.insecure, "true")) "
                        + "turns it off: give only one")
            }
            return
        }
        guard !insecure else { return }
        var addresses: [(NodeSetting, String)] = [(.listen, listen), (.advertise, advertise), (.http, http)]
        if let binary { addresses.append((.binaryListen, binary)) }
        guard case (let setting, let exposed)? = addresses.first(where: { AddressScope(address: $0.1) != .loopback })
        else {
            return
        }
        let name = options.name ?? "NAME"
        let hosts = addresses.compactMap { HostPort.parse($0.1, allowingAnyPort: true)?.host }
            .filter { AddressScope(host: $0) != .wildcard }
        let hostFlags = Array(Set(hosts)).sorted().map { "--host \($0)" }.joined(separator: " ")
        let described =
            setting == .advertise && options.advertise == nil
            ? "\(origins.describe(.listen, exposed)) (advertised, as no --advertise is set)"
            : origins.describe(setting, exposed)
        throw SettingsError(
            """
            \(described) is not a loopback address, and the node has no certificates: anyone who can reach it \
            could join the cluster's traffic and read and write every key. Make certificates (docs/security.md):
                kvorum certs create-ca --certs-dir DIR --ca-key CA_DIR/ca.key
                kvorum certs create-node \(name) \(hostFlags.isEmpty ? "--host HOST" : hostFlags) --certs-dir DIR \
            --ca-key CA_DIR/ca.key
            and start the node with \(Origins.ways(.certsDir)); or, on a network you trust completely, \
            run without TLS with --insecure (or KVORUM_INSECURE=1, or 'insecure = true' in the config file)
            """)
    }

    private func address(_ setting: NodeSetting, _ text: String, anyPort: Bool) throws(SettingsError) -> String {
        guard HostPort.parse(text, allowingAnyPort: anyPort) != nil else {
            throw SettingsError("\(origins.describe(setting, text)): not a host:port address")
        }
        return text
    }

    /// The ring address: `advertise` if given (never a wildcard), else a
    /// concrete `listen`.
    private func advertisedAddress(listen: String) throws(SettingsError) -> String {
        guard let advertise = options.advertise else {
            guard AddressScope(address: listen) != .wildcard else {
                let port = HostPort.parse(listen, allowingAnyPort: true)!.port
                throw SettingsError(
                    "\(origins.describe(.listen, listen)) is a wildcard address, which other nodes cannot dial: "
                        + "also set the address they reach this node at, e.g. --advertise 10.0.0.5:\(port) "
                        + "(or KVORUM_ADVERTISE, or 'advertise' in the config file)")
            }
            return listen
        }
        _ = try address(.advertise, advertise, anyPort: false)
        guard AddressScope(address: advertise) != .wildcard else {
            throw SettingsError(
                "\(origins.describe(.advertise, advertise)) is a wildcard address, which no node can dial: "
                    + "advertise this host's own IP address or DNS name")
        }
        return advertise
    }

    /// A contact on another host could not reach a loopback address, and
    /// nobody can dial a wildcard.
    private func checkReachable(advertise: String, contact: String) throws(SettingsError) {
        let described =
            options.advertise != nil
            ? origins.describe(.advertise, advertise)
            : "\(origins.describe(.listen, advertise)) (advertised, as no --advertise is set)"
        switch (AddressScope(address: advertise), AddressScope(address: contact)) {
        case (_, .wildcard):
            throw SettingsError(
                "\(origins.describe(.join, contact)) is a wildcard address: join through a member's advertised "
                    + "address")
        case (.loopback, .routable):
            throw SettingsError(
                "\(described) is a loopback address, but the contact \(contact) is not: the other members could "
                    + "not reach this node. Set --advertise to this host's own IP address or DNS name")
        default:
            break
        }
    }

    /// Room in a peer frame for what travels with a value: key, versions, metadata.
    static let frameOverhead = 64 << 10

    private func checkNumbers() throws(SettingsError) {
        let seconds: [(NodeSetting, Double?)] = [
            (.requestTimeout, options.requestTimeout), (.probeInterval, options.probeInterval),
            (.handoffInterval, options.handoffInterval), (.reapInterval, options.reapInterval),
            (.idleTimeout, options.idleTimeout), (.requestHeaderTimeout, options.requestHeaderTimeout),
            (.antiEntropyInterval, options.antiEntropyInterval), (.heartbeatInterval, options.heartbeatInterval),
            (.downAfter, options.downAfter),
        ]
        for case (let setting, let value?) in seconds where !(value > 0 && value.isFinite) {
            throw SettingsError("\(origins.describe(setting, "\(value)")): must be a positive number of seconds")
        }
        if let grace = options.tombstoneGrace, !(grace >= 0 && grace.isFinite) {
            throw SettingsError("\(origins.describe(.tombstoneGrace, "\(grace)")): cannot be negative")
        }
        if let cached = options.cachedRecords, cached < 0 {
            throw SettingsError("\(origins.describe(.cachedRecords, "\(cached)")): cannot be negative")
        }
        let positive: [(NodeSetting, Int?)] = [
            (.maxValueBytes, options.maxValueBytes), (.siblingWarning, options.siblingWarning),
            (.siblingLimit, options.siblingLimit), (.maxConnections, options.maxConnections),
            (.maxPeerConnections, options.maxPeerConnections), (.maxHeaderBytes, options.maxHeaderBytes),
            (.maxKeyBytes, options.maxKeyBytes), (.maxFrameBytes, options.maxFrameBytes),
            (.peerQueueLimit, options.peerQueueLimit), (.peerBufferBytes, options.peerBufferBytes),
            (.maxPendingOperations, options.maxPendingOperations),
            (.antiEntropyKeyBudget, options.antiEntropyKeyBudget),
        ]
        for case (let setting, let value?) in positive where value < 1 {
            throw SettingsError("\(origins.describe(setting, "\(value)")): must be at least 1")
        }
        let frame = options.maxFrameBytes ?? NodeLimits().maxFrameBytes
        let value = options.maxValueBytes ?? ServerSettings.defaultMaxValueBytes
        if frame < value + Resolution.frameOverhead {
            throw SettingsError(
                "\(origins.describe(.maxFrameBytes, "\(frame)")): must be at least max-value-bytes (\(value)) plus "
                    + "\(Resolution.frameOverhead) bytes, or a peer could not carry the largest value a client may write"
            )
        }
    }
}
