import Foundation
import KvorumCore
import KvorumTestKit
import Testing

@testable import KvorumServer

/// How a server node's settings are resolved from its config file, its
/// environment and its flags (`ServerSettings.resolve`), and which peer
/// addresses it refuses to advertise or to admit.
struct SettingsTests {
    static let path = "/etc/kvorum/kvorum.toml"

    /// The settings every node needs, as a config file (without TLS, which
    /// a node off loopback must then be told: `insecure`).
    static let minimalFile = """
        name = "n1"
        listen = "10.0.0.5:7700"
        http = "10.0.0.5:8700"
        data-dir = "/var/lib/kvorum"
        insecure = true

        """

    static func resolve(
        file: String? = minimalFile, environment: [String: String] = [:], flags: SettingsLayer = SettingsLayer()
    ) throws(SettingsError) -> ServerSettings {
        try ServerSettings.resolve(
            configFile: file.map { (path, $0) }, environment: environment, flags: flags)
    }

    /// The message of the error `resolve` throws, or a failure naming what it returned.
    static func refusal(
        file: String? = minimalFile, environment: [String: String] = [:], flags: SettingsLayer = SettingsLayer()
    ) -> String {
        do {
            let settings = try resolve(file: file, environment: environment, flags: flags)
            Issue.record("resolved without an error: \(settings)")
            return ""
        } catch {
            return error.description
        }
    }

    // MARK: Sources and their order

    /// A flag beats the environment, the environment beats the file, the
    /// file beats the defaults; each setting is taken from the first source
    /// that gives it.
    @Test func flagsBeatEnvironmentBeatsFileBeatsDefaults() throws {
        let file =
            Self.minimalFile + """
                durability = "fsync"
                cached-records = 5
                request-timeout = 2

                """
        var flags = SettingsLayer()
        flags.name = "from-flag"
        flags.requestTimeout = 0.25
        let environment = ["KVORUM_NAME": "from-env", "KVORUM_CACHED_RECORDS": "7", "KVORUM_HTTP": "10.0.0.5:8800"]
        let settings = try Self.resolve(file: file, environment: environment, flags: flags)
        #expect(settings.name == "from-flag")
        #expect(settings.requestTimeout == 0.25)
        #expect(settings.cachedRecords == 7)
        #expect(settings.http == "10.0.0.5:8800")
        #expect(settings.durability == .fsync)
        #expect(settings.listen == "10.0.0.5:7700")
        #expect(settings.profile == .server)
        #expect(settings.probeInterval == nil)
        #expect(settings.nodeConfig.requestTimeout == 0.25)
        #expect(
            settings.nodeConfig.probeInterval == NodeConfig(name: "x", address: "h:1", profile: .server).probeInterval)

        let defaults = try Self.resolve()
        #expect(defaults.durability == .process)
        #expect(defaults.cachedRecords == SQLiteStorage.defaultCachedRecords)
        #expect(defaults.join == nil)
    }

    /// Every setting can come from the file alone.
    @Test func everySettingReadsFromTheFile() throws {
        let settings = try Self.resolve(
            file: """
                name = "n3"
                listen = "0.0.0.0:7700"
                advertise = "10.0.0.7:7700"
                http = "0.0.0.0:8700"
                binary-listen = "0.0.0.0:9700"
                data-dir = "/srv/kvorum"
                join = "10.0.0.5:7700"
                durability = "fsync"
                cached-records = 1000
                profile = "harness"
                request-timeout = 0.75
                probe-interval = 3
                handoff-interval = 4.5
                max-value-bytes = 4096
                sibling-warning = 5
                sibling-limit = 8
                tombstone-grace = 120
                reap-interval = 2.5
                max-connections = 500
                max-peer-connections = 20
                idle-timeout = 30
                request-header-timeout = 2.5
                max-header-bytes = 8192
                max-key-bytes = 512
                max-frame-bytes = 8388608
                peer-queue-limit = 100
                peer-buffer-bytes = 1048576
                max-pending-operations = 50
                certs-dir = "/srv/kvorum/certs"
                insecure = false
                anti-entropy-interval = 2
                anti-entropy-key-budget = 512
                heartbeat-interval = 0.25
                down-after = 3
                log-level = "debug"
                log-format = "json"
                """)
        #expect(
            settings
                == ServerSettings(
                    name: "n3", listen: "0.0.0.0:7700", advertise: "10.0.0.7:7700", http: "0.0.0.0:8700",
                    binaryListen: "0.0.0.0:9700", dataDir: "/srv/kvorum", join: "10.0.0.5:7700", durability: .fsync,
                    cachedRecords: 1000,
                    profile: .harness, requestTimeout: 0.75, probeInterval: 3, handoffInterval: 4.5,
                    maxValueBytes: 4096, siblingWarning: 5, siblingLimit: 8, tombstoneGrace: 120, reapInterval: 2.5,
                    limits: Self.smallLimits, certsDir: "/srv/kvorum/certs", insecure: false,
                    antiEntropyInterval: 2, antiEntropyKeyBudget: 512, heartbeatInterval: 0.25, downAfter: 3,
                    logLevel: .debug, logFormat: .json
                ))
        let server = settings.serverConfiguration
        #expect(server.node.antiEntropyInterval == 2)
        #expect(server.node.antiEntropyKeyBudget == 512)
        #expect(server.node.heartbeatInterval == 0.25 && server.node.downAfter == 3)
        #expect(server.limits == Self.smallLimits)
        #expect(server.maxValueBytes == 4096)
        #expect(server.node.siblings == SiblingBounds(warning: 5, limit: 8))
        #expect(server.node.reaping == Reaping(grace: 120, interval: 2.5))
        #expect(server.listenHost == "0.0.0.0" && server.listenPort == 7700)
        #expect(server.node.address == "10.0.0.7:7700")
        #expect(server.httpHost == "0.0.0.0" && server.httpPort == 8700)
        #expect(server.binary?.host == "0.0.0.0" && server.binary?.port == 9700)
        #expect(try Self.resolve().serverConfiguration.binary == nil, "the binary protocol is off by default")
    }

    /// Every setting can come from the environment alone, under its
    /// `KVORUM_` name; an empty variable counts as unset.
    @Test func everySettingReadsFromTheEnvironment() throws {
        let environment = [
            "KVORUM_NAME": "n2", "KVORUM_LISTEN": "0.0.0.0:7700", "KVORUM_ADVERTISE": "10.0.0.6:7700",
            "KVORUM_HTTP": "127.0.0.1:8700", "KVORUM_DATA_DIR": "/srv/n2", "KVORUM_JOIN": "10.0.0.5:7700",
            "KVORUM_DURABILITY": "fsync", "KVORUM_CACHED_RECORDS": "0", "KVORUM_PROFILE": "server",
            "KVORUM_REQUEST_TIMEOUT": "1.5", "KVORUM_PROBE_INTERVAL": "2", "KVORUM_HANDOFF_INTERVAL": "3",
            "KVORUM_MAX_VALUE_BYTES": "2048", "KVORUM_SIBLING_WARNING": "3", "KVORUM_SIBLING_LIMIT": "6",
            "KVORUM_TOMBSTONE_GRACE": "0", "KVORUM_REAP_INTERVAL": "1",
            "KVORUM_MAX_CONNECTIONS": "500", "KVORUM_MAX_PEER_CONNECTIONS": "20", "KVORUM_IDLE_TIMEOUT": "30",
            "KVORUM_REQUEST_HEADER_TIMEOUT": "2.5", "KVORUM_MAX_HEADER_BYTES": "8192", "KVORUM_MAX_KEY_BYTES": "512",
            "KVORUM_MAX_FRAME_BYTES": "8388608", "KVORUM_PEER_QUEUE_LIMIT": "100",
            "KVORUM_PEER_BUFFER_BYTES": "1048576", "KVORUM_MAX_PENDING_OPERATIONS": "50",
            "KVORUM_CERTS_DIR": "/srv/n2/certs", "KVORUM_INSECURE": "no", "KVORUM_SOMETHING_ELSE": "ignored",
            "KVORUM_ANTI_ENTROPY_INTERVAL": "0.5", "KVORUM_ANTI_ENTROPY_KEY_BUDGET": "64",
            "KVORUM_LOG_LEVEL": "warning", "KVORUM_LOG_FORMAT": "text",
            "KVORUM_HEARTBEAT_INTERVAL": "2", "KVORUM_DOWN_AFTER": "10", "KVORUM_BINARY_LISTEN": "127.0.0.1:9700",
        ]
        #expect(Set(NodeSetting.allCases.map(\.environmentVariable)).isSubset(of: environment.keys))
        let settings = try Self.resolve(file: nil, environment: environment)
        #expect(
            settings
                == ServerSettings(
                    name: "n2", listen: "0.0.0.0:7700", advertise: "10.0.0.6:7700", http: "127.0.0.1:8700",
                    binaryListen: "127.0.0.1:9700", dataDir: "/srv/n2", join: "10.0.0.5:7700", durability: .fsync,
                    cachedRecords: 0,
                    profile: .server, requestTimeout: 1.5, probeInterval: 2, handoffInterval: 3,
                    maxValueBytes: 2048, siblingWarning: 3, siblingLimit: 6, tombstoneGrace: 0, reapInterval: 1,
                    limits: Self.smallLimits, certsDir: "/srv/n2/certs", insecure: false,
                    antiEntropyInterval: 0.5, antiEntropyKeyBudget: 64, heartbeatInterval: 2, downAfter: 10,
                    logLevel: .warning,
                    logFormat: .text))
        #expect(try Self.resolve(environment: ["KVORUM_NAME": ""]).name == "n1")
    }

    /// The log settings default to info and text; a level or format that
    /// does not exist is refused with the choices, as its source spells it.
    @Test func logSettingsDefaultAndRefuseUnknownWords() throws {
        let settings = try Self.resolve()
        #expect(settings.logLevel == .info && settings.logFormat == .text)
        #expect(
            Self.refusal(environment: ["KVORUM_LOG_LEVEL": "loud"])
                == "KVORUM_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical, got 'loud'")
        #expect(Self.refusal(file: Self.minimalFile + "log-format = \"xml\"\n").contains("must be one of text, json"))
        #expect(
            Self.refusal(environment: ["KVORUM_ANTI_ENTROPY_INTERVAL": "0"]).contains(
                "must be a positive number of seconds"))
    }

    /// The limits the file and environment tests set, each unlike its default.
    static let smallLimits = {
        var limits = NodeLimits()
        limits.maxConnections = 500
        limits.maxPeerConnections = 20
        limits.idleTimeout = 30
        limits.requestHeaderTimeout = 2.5
        limits.maxHeaderBytes = 8192
        limits.maxKeyBytes = 512
        limits.maxFrameBytes = 8 << 20
        limits.peerQueueLimit = 100
        limits.peerBufferBytes = 1 << 20
        limits.maxPendingOperations = 50
        return limits
    }()

    /// Without any limit set, each has its documented default, and they
    /// reach the peer transport.
    @Test func limitsDefaultAndReachTheTransport() throws {
        let limits = try Self.resolve().limits
        #expect(limits == NodeLimits())
        #expect(limits.maxConnections == 1024 && limits.maxPeerConnections == 64)
        #expect(limits.idleTimeout == 60 && limits.requestHeaderTimeout == 10)
        #expect(limits.maxHeaderBytes == 16384 && limits.maxKeyBytes == 1024)
        #expect(limits.maxFrameBytes == 16 << 20 && limits.peerQueueLimit == 10_000)
        #expect(limits.peerBufferBytes == 32 << 20 && limits.maxPendingOperations == 10_000)
        var transport = PeerTransport.Limits()
        transport.apply(Self.smallLimits)
        #expect(transport.maximumFrameSize == 8 << 20 && transport.queueLimit == 100)
        #expect(transport.maximumAcceptedConnections == 20 && transport.helloTimeout == 2.5)
        #expect(transport.writeBufferWaterMark.high == 1 << 20 && transport.writeBufferWaterMark.low == 1 << 19)
    }

    /// A limit of zero, a negative timeout, or a frame limit too small for
    /// the largest value is refused, naming the setting as its source spells it.
    @Test func badLimitsAreRefused() throws {
        var flags = SettingsLayer()
        flags.maxConnections = 0
        #expect(Self.refusal(flags: flags) == "--max-connections 0: must be at least 1")
        #expect(
            Self.refusal(environment: ["KVORUM_IDLE_TIMEOUT": "-1"])
                == "KVORUM_IDLE_TIMEOUT=-1.0: must be a positive number of seconds")
        #expect(
            Self.refusal(file: Self.minimalFile + "max-pending-operations = 0\n")
                == "max-pending-operations = 0 (in \(Self.path)): must be at least 1")
        #expect(
            Self.refusal(file: Self.minimalFile + "anti-entropy-key-budget = 0\n")
                == "anti-entropy-key-budget = 0 (in \(Self.path)): must be at least 1")
        #expect(
            Self.refusal(environment: ["KVORUM_MAX_KEY_BYTES": "lots"])
                == "KVORUM_MAX_KEY_BYTES must be a whole number of bytes, got 'lots'")
        let frame = Self.refusal(file: Self.minimalFile + "max-frame-bytes = 1048576\n")
        #expect(
            frame.hasPrefix("max-frame-bytes = 1048576 (in \(Self.path)): must be at least max-value-bytes"), "\(frame)"
        )
        flags = SettingsLayer()
        flags.maxFrameBytes = 200_000
        flags.maxValueBytes = 100_000
        #expect(try Self.resolve(flags: flags).limits.maxFrameBytes == 200_000)
    }

    /// The example in deploy/ is a valid config file, and says what it means.
    @Test func deployExampleResolves() throws {
        let url = Paths.repository.appendingPathComponent("deploy/kvorum.toml.example")
        let text = try String(contentsOf: url, encoding: .utf8)
        let settings = try ServerSettings.resolve(
            configFile: (url.path, text), environment: [:], flags: SettingsLayer())
        #expect(settings.name == "kv1")
        #expect(settings.serverConfiguration.listenHost == "0.0.0.0")
        #expect(settings.advertise == "10.0.0.1:7700")
        #expect(settings.join == "10.0.0.2:7700")
        #expect(settings.durability == .fsync)
        #expect(settings.certsDir == "/etc/kvorum/certs" && !settings.insecure)
    }

    /// The config file's path: `--config`, else `KVORUM_CONFIG`.
    @Test func configPathFromFlagOrEnvironment() {
        #expect(ServerSettings.configPath(flag: "a.toml", environment: ["KVORUM_CONFIG": "b.toml"]) == "a.toml")
        #expect(ServerSettings.configPath(flag: nil, environment: ["KVORUM_CONFIG": "b.toml"]) == "b.toml")
        #expect(ServerSettings.configPath(flag: nil, environment: ["KVORUM_CONFIG": ""]) == nil)
    }

    /// `kvorum cluster up` starts its nodes without the variables a node
    /// reads, and with every other one.
    @Test func clusterNodesGetNoSettingsFromTheEnvironment() {
        let environment = [
            "KVORUM_ADVERTISE": "10.0.0.5:7700", "KVORUM_CONFIG": "/etc/kvorum.toml", "PATH": "/bin",
            "KVORUM_EXECUTABLE": "/x/kvorum", "KVORUM_DATA_DIR": "/srv",
        ]
        #expect(
            ServerSettings.withoutNodeSettings(environment) == ["PATH": "/bin", "KVORUM_EXECUTABLE": "/x/kvorum"])
    }

    // MARK: Refusals

    /// A key that is no setting, a value of the wrong type, a value outside
    /// its choices and text that is not TOML: each names the file and the key.
    @Test func badConfigFilesAreRefusedNamingFileAndKey() {
        let unknown = Self.refusal(file: Self.minimalFile + "listen_address = \"10.0.0.5:7700\"\n")
        #expect(unknown.hasPrefix("\(Self.path): unknown key 'listen_address'"), "\(unknown)")
        let section = Self.refusal(file: Self.minimalFile + "[server]\nport = 1\n")
        #expect(section.hasPrefix("\(Self.path): unknown key 'server'"), "\(section)")
        let wrongType = Self.refusal(file: Self.minimalFile + "cached-records = \"many\"\n")
        #expect(wrongType == "\(Self.path): 'cached-records' must be an integer, got a string")
        let unquoted = Self.refusal(file: "name = 7\n")
        #expect(unquoted == "\(Self.path): 'name' must be a string in quotes, got an integer")
        let choice = Self.refusal(file: Self.minimalFile + "durability = \"always\"\n")
        #expect(choice == "\(Self.path): 'durability' must be one of process, fsync, got 'always'")
        let syntax = Self.refusal(file: "name = \"n1\nlisten = 1")
        #expect(syntax.hasPrefix("\(Self.path): not valid TOML"), "\(syntax)")
    }

    /// A malformed environment variable is named.
    @Test func badEnvironmentIsRefusedNamingTheVariable() {
        #expect(
            Self.refusal(environment: ["KVORUM_CACHED_RECORDS": "lots"])
                == "KVORUM_CACHED_RECORDS must be a whole number, got 'lots'")
        #expect(
            Self.refusal(environment: ["KVORUM_PROBE_INTERVAL": "-1"])
                == "KVORUM_PROBE_INTERVAL=-1.0: must be a positive number of seconds")
        #expect(
            Self.refusal(environment: ["KVORUM_MAX_VALUE_BYTES": "0"])
                == "KVORUM_MAX_VALUE_BYTES=0: must be at least 1")
        #expect(
            Self.refusal(environment: ["KVORUM_SIBLING_LIMIT": "1k"])
                == "KVORUM_SIBLING_LIMIT must be a whole number of versions, got '1k'")
    }

    /// A value from the file is quoted in messages as the file writes it.
    @Test func fileValuesAreQuotedAsWritten() {
        #expect(
            Self.refusal(file: Self.minimalFile + "probe-interval = 0\n")
                == "probe-interval = 0.0 (in \(Self.path)): must be a positive number of seconds")
        #expect(
            Self.refusal(file: Self.minimalFile + "join = \"nowhere\"\n")
                == "join = \"nowhere\" (in \(Self.path)): not a host:port address")
    }

    /// Missing settings are listed with the three ways to give them.
    @Test func missingSettingsAreListed() {
        let message = Self.refusal(file: "name = \"n1\"\nlisten = \"10.0.0.5:7700\"\n")
        #expect(
            message
                == "a server node needs --http (or KVORUM_HTTP, or 'http' in the --config file); "
                + "--data-dir (or KVORUM_DATA_DIR, or 'data-dir' in the --config file)")
    }

    /// A wildcard advertise address is refused wherever it comes from.
    @Test func wildcardAdvertiseIsRefused() {
        var flags = SettingsLayer()
        flags.advertise = "0.0.0.0:7700"
        #expect(
            Self.refusal(flags: flags)
                == "--advertise 0.0.0.0:7700 is a wildcard address, which no node can dial: "
                + "advertise this host's own IP address or DNS name")
        let fromFile = Self.refusal(file: Self.minimalFile + "advertise = \"[::]:7700\"\n")
        #expect(fromFile.hasPrefix("advertise = \"[::]:7700\" (in \(Self.path)) is a wildcard address"), "\(fromFile)")
    }

    /// A wildcard listen address needs an advertise address; with one, the
    /// node listens on the wildcard and is known by the advertised address.
    @Test func wildcardListenNeedsAdvertise() throws {
        var flags = SettingsLayer()
        flags.listen = "0.0.0.0:7700"
        #expect(
            Self.refusal(flags: flags)
                == "--listen 0.0.0.0:7700 is a wildcard address, which other nodes cannot dial: also set the "
                + "address they reach this node at, e.g. --advertise 10.0.0.5:7700 (or KVORUM_ADVERTISE, or "
                + "'advertise' in the config file)")
        flags.advertise = "10.0.0.5:7700"
        let settings = try Self.resolve(flags: flags)
        #expect(settings.serverConfiguration.listenHost == "0.0.0.0")
        #expect(settings.nodeConfig.address == "10.0.0.5:7700")
    }

    /// A loopback advertise address (given or taken from --listen) cannot
    /// join through a contact on another host; on one machine it can.
    @Test func loopbackAdvertiseCannotJoinARemoteContact() throws {
        var flags = SettingsLayer()
        flags.listen = "127.0.0.1:7701"
        flags.join = "10.0.0.5:7700"
        #expect(
            Self.refusal(flags: flags)
                == "--listen 127.0.0.1:7701 (advertised, as no --advertise is set) is a loopback address, but the "
                + "contact 10.0.0.5:7700 is not: the other members could not reach this node. Set --advertise to "
                + "this host's own IP address or DNS name")
        flags.advertise = "localhost:7701"
        #expect(Self.refusal(flags: flags).hasPrefix("--advertise localhost:7701 is a loopback address"))
        flags.join = "127.0.0.1:7700"
        #expect(try Self.resolve(flags: flags).join == "127.0.0.1:7700")
        flags.join = "0.0.0.0:7700"
        #expect(Self.refusal(flags: flags).hasPrefix("--join 0.0.0.0:7700 is a wildcard address"))
    }

    // MARK: Secure by default

    /// The minimal settings without `insecure`: a node on 10.0.0.5.
    static let exposedFile = minimalFile.replacingOccurrences(of: "insecure = true\n", with: "")

    /// A node any of whose addresses is not loopback refuses to start
    /// without certificates, naming the address and the commands that make
    /// them; `insecure` (from any source) lets it run without.
    @Test func offLoopbackWithoutCertificatesIsRefused() throws {
        let message = Self.refusal(file: Self.exposedFile)
        #expect(
            message.hasPrefix("listen = \"10.0.0.5:7700\" (in \(Self.path)) is not a loopback address"), "\(message)")
        #expect(message.contains("kvorum certs create-ca --certs-dir DIR"), "\(message)")
        #expect(message.contains("kvorum certs create-node n1 --host 10.0.0.5 --certs-dir DIR"), "\(message)")
        #expect(message.contains("--certs-dir (or KVORUM_CERTS_DIR"), "\(message)")
        #expect(message.contains("--insecure"), "\(message)")
        var flags = SettingsLayer()
        flags.insecure = true
        #expect(try Self.resolve(file: Self.exposedFile, flags: flags).insecure)
        #expect(try Self.resolve(file: Self.exposedFile, environment: ["KVORUM_INSECURE": "1"]).insecure)
        flags = SettingsLayer()
        flags.certsDir = "/etc/kvorum/certs"
        #expect(try Self.resolve(file: Self.exposedFile, flags: flags).certsDir == "/etc/kvorum/certs")
    }

    /// Each address counts: a wildcard listener, a routable advertise
    /// address, an HTTP port off loopback.
    @Test func everyAddressMustBeLoopbackToRunWithoutTLS() throws {
        var flags = SettingsLayer()
        (flags.name, flags.listen, flags.http, flags.dataDir) = ("n1", "127.0.0.1:7700", "127.0.0.1:8700", "/d")
        #expect(try Self.resolve(file: nil, flags: flags).certsDir == nil)
        var wildcard = flags
        (wildcard.listen, wildcard.advertise) = ("0.0.0.0:7700", "127.0.0.1:7700")
        #expect(Self.refusal(file: nil, flags: wildcard).hasPrefix("--listen 0.0.0.0:7700 is not a loopback address"))
        var advertised = flags
        advertised.advertise = "10.0.0.9:7700"
        let message = Self.refusal(file: nil, flags: advertised)
        #expect(message.hasPrefix("--advertise 10.0.0.9:7700 is not a loopback address"))
        #expect(message.contains("create-node n1 --host 10.0.0.9 --host 127.0.0.1 --certs-dir"), "\(message)")
        var http = flags
        http.http = "[::]:8700"
        #expect(Self.refusal(file: nil, flags: http).hasPrefix("--http [::]:8700 is not a loopback address"))
        var binary = flags
        binary.binaryListen = "0.0.0.0:9700"
        #expect(
            Self.refusal(file: nil, flags: binary).hasPrefix("--binary-listen 0.0.0.0:9700 is not a loopback address"))
        binary.binaryListen = "127.0.0.1:9700"
        #expect(try Self.resolve(file: nil, flags: binary).binaryListen == "127.0.0.1:9700")
        binary.binaryListen = "nowhere"
        #expect(Self.refusal(file: nil, flags: binary) == "--binary-listen nowhere: not a host:port address")
    }

    /// TLS on and off at once is a contradiction; a malformed `insecure` is named.
    @Test func certificatesAndInsecureContradict() {
        var flags = SettingsLayer()
        flags.certsDir = "/etc/kvorum/certs"
        #expect(
            Self.refusal(flags: flags)
                == "--certs-dir /etc/kvorum/certs turns TLS on and insecure = true (in \(Self.path)) turns it off: "
                + "give only one")
        #expect(
            Self.refusal(environment: ["KVORUM_INSECURE": "maybe"])
                == "KVORUM_INSECURE must be true or false (1 or 0, yes or no), got 'maybe'")
        #expect(
            Self.refusal(file: Self.exposedFile + "insecure = \"yes\"\n")
                == "\(Self.path): 'insecure' must be true or false, got a string")
    }

    /// IPv6 hosts are written in brackets and handed to sockets without them.
    @Test func hostPortUnbracketsIPv6Hosts() {
        #expect(HostPort.parse("[::]:7700").map { "\($0.host) \($0.port)" } == ":: 7700")
        #expect(HostPort.parse("[::1]:7700").map { "\($0.host) \($0.port)" } == "::1 7700")
        #expect(HostPort.parse("10.0.0.5:7700").map { "\($0.host) \($0.port)" } == "10.0.0.5 7700")
        #expect(HostPort.parse("[]:7700") == nil)
        #expect(HostPort.parse("[::1]:0") == nil)
    }

    // MARK: Address scopes in the core

    @Test(arguments: [
        ("0.0.0.0:7700", AddressScope.wildcard), ("[::]:7700", .wildcard), ("::", .wildcard),
        ("[0:0:0:0:0:0:0:0]:1", .wildcard), (":7700", .wildcard),
        ("127.0.0.1:7700", .loopback), ("127.8.9.10:1", .loopback), ("localhost:7700", .loopback),
        ("LocalHost:1", .loopback), ("[::1]:7700", .loopback), ("[0:0:0:0:0:0:0:1]:1", .loopback),
        ("10.0.0.5:7700", .routable), ("kv1.example.com:7700", .routable), ("[fe80::1]:7700", .routable),
        ("128.0.0.1:7700", .routable), ("1.0.0.0:1", .routable),
    ])
    func addressScopes(address: String, scope: AddressScope) {
        #expect(AddressScope(address: address) == scope)
    }

    /// Bare IPv6 hosts, as a listener takes them.
    @Test func bareHostScopes() {
        #expect(AddressScope(host: "::") == .wildcard)
        #expect(AddressScope(host: "::1") == .loopback)
        #expect(AddressScope(host: "fe80::1") == .routable)
        #expect(AddressScope(host: "0.0.0.0") == .wildcard)
        #expect(AddressScope(host: "127.0.0.1") == .loopback)
    }

    /// A contact refuses a wildcard member always, a loopback one unless it
    /// is loopback itself.
    @Test func contactRefusals() {
        #expect(AddressScope.refusal(ofMember: "0.0.0.0:7701", joining: "127.0.0.1:7700") != nil)
        #expect(AddressScope.refusal(ofMember: "127.0.0.1:7701", joining: "10.0.0.5:7700") != nil)
        #expect(AddressScope.refusal(ofMember: "127.0.0.1:7701", joining: "127.0.0.1:7700") == nil)
        #expect(AddressScope.refusal(ofMember: "10.0.0.6:7700", joining: "10.0.0.5:7700") == nil)
        #expect(AddressScope.refusal(ofMember: "10.0.0.6:7700", joining: "127.0.0.1:7700") == nil)
    }

    /// The core drops a join request whose entry it refuses: the member set
    /// stays as it was; an acceptable one is admitted.
    @Test func coreIgnoresRefusedJoinRequests() {
        let node = KvorumNode(
            config: NodeConfig(name: "n1", address: "10.0.0.5:7700", profile: .server), storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: .string("10.0.0.5:7700"))), now: 0)
        func ask(_ name: String, _ address: String) {
            let entry = MemberEntry(name: name, address: address, status: .up, version: 1)
            _ = node.handle(.peer(from: address, PeerMessage(from: name, viewDigest: 0, body: .join(entry))), now: 1)
        }
        ask("n2", "127.0.0.1:7701")
        ask("n3", "0.0.0.0:7702")
        #expect(node.members == ["n1"])
        ask("n4", "10.0.0.6:7700")
        #expect(node.members == ["n1", "n4"])
    }
}
