import KvorumCore
import Logging

/// One setting of a server node, spelled alike in every source: `--data-dir`
/// on the command line, `KVORUM_DATA_DIR` in the environment, `data-dir` in
/// the config file (docs/deploy.md).
public enum NodeSetting: String, CaseIterable, Sendable {
    case name
    case listen
    case advertise
    case http
    case binaryListen = "binary-listen"
    case dataDir = "data-dir"
    case join
    case durability
    case cachedRecords = "cached-records"
    case profile
    case requestTimeout = "request-timeout"
    case probeInterval = "probe-interval"
    case handoffInterval = "handoff-interval"
    case maxValueBytes = "max-value-bytes"
    case siblingWarning = "sibling-warning"
    case siblingLimit = "sibling-limit"
    case tombstoneGrace = "tombstone-grace"
    case reapInterval = "reap-interval"
    case maxConnections = "max-connections"
    case maxPeerConnections = "max-peer-connections"
    case idleTimeout = "idle-timeout"
    case requestHeaderTimeout = "request-header-timeout"
    case maxHeaderBytes = "max-header-bytes"
    case maxKeyBytes = "max-key-bytes"
    case maxFrameBytes = "max-frame-bytes"
    case peerQueueLimit = "peer-queue-limit"
    case peerBufferBytes = "peer-buffer-bytes"
    case maxPendingOperations = "max-pending-operations"
    case certsDir = "certs-dir"
    case insecure
    case antiEntropyInterval = "anti-entropy-interval"
    case antiEntropyKeyBudget = "anti-entropy-key-budget"
    case heartbeatInterval = "heartbeat-interval"
    case downAfter = "down-after"
    case logLevel = "log-level"
    case logFormat = "log-format"

    /// The kind of value a setting takes, which decides how a config file
    /// must write it.
    enum Kind {
        /// Text: a name, an address, a path or a word from a fixed list.
        case text
        /// A whole number.
        case integer
        /// A number of seconds, whole or fractional.
        case seconds
        /// On or off: a bare flag on the command line, `true`/`false` in the
        /// file, `1`/`0`, `true`/`false` or `yes`/`no` in the environment.
        case boolean
    }

    /// The command-line option.
    public var flag: String { "--" + rawValue }
    /// The key in the config file.
    public var fileKey: String { rawValue }
    /// The environment variable.
    public var environmentVariable: String {
        "KVORUM_" + String(rawValue.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    var kind: Kind {
        switch self {
        case .name, .listen, .advertise, .http, .binaryListen, .dataDir, .join, .durability, .profile, .certsDir: .text
        case .logLevel, .logFormat: .text
        case .cachedRecords, .maxValueBytes, .siblingWarning, .siblingLimit: .integer
        case .maxConnections, .maxPeerConnections, .maxHeaderBytes, .maxKeyBytes, .maxFrameBytes, .peerQueueLimit,
            .peerBufferBytes, .maxPendingOperations, .antiEntropyKeyBudget:
            .integer
        case .requestTimeout, .probeInterval, .handoffInterval, .tombstoneGrace, .reapInterval: .seconds
        case .antiEntropyInterval, .heartbeatInterval, .downAfter: .seconds
        case .idleTimeout, .requestHeaderTimeout: .seconds
        case .insecure: .boolean
        }
    }
}

/// Node settings of which any may be missing: what one source (the command
/// line, the environment, a config file) says. `ServerSettings.resolve`
/// layers them.
public struct SettingsLayer: Sendable, Equatable {
    public var name: String?
    public var listen: String?
    public var advertise: String?
    public var http: String?
    /// Where the binary client protocol listens (none: it is off).
    public var binaryListen: String?
    public var dataDir: String?
    public var join: String?
    public var durability: SQLiteStorage.Durability?
    public var cachedRecords: Int?
    public var profile: NodeConfig.Profile?
    public var requestTimeout: Double?
    public var probeInterval: Double?
    public var handoffInterval: Double?
    public var maxValueBytes: Int?
    public var siblingWarning: Int?
    public var siblingLimit: Int?
    public var tombstoneGrace: Double?
    public var reapInterval: Double?
    public var maxConnections: Int?
    public var maxPeerConnections: Int?
    public var idleTimeout: Double?
    public var requestHeaderTimeout: Double?
    public var maxHeaderBytes: Int?
    public var maxKeyBytes: Int?
    public var maxFrameBytes: Int?
    public var peerQueueLimit: Int?
    public var peerBufferBytes: Int?
    public var maxPendingOperations: Int?
    /// The directory of the node's TLS files (`ca.crt`, `node.crt`, `node.key`).
    public var certsDir: String?
    /// Run without TLS even off loopback.
    public var insecure: Bool?
    public var antiEntropyInterval: Double?
    public var antiEntropyKeyBudget: Int?
    public var heartbeatInterval: Double?
    public var downAfter: Double?
    public var logLevel: Logger.Level?
    public var logFormat: LogFormat?

    public init() {}

    /// Whether this source gives `setting`.
    public func sets(_ setting: NodeSetting) -> Bool {
        switch setting {
        case .name: name != nil
        case .listen: listen != nil
        case .advertise: advertise != nil
        case .http: http != nil
        case .binaryListen: binaryListen != nil
        case .dataDir: dataDir != nil
        case .join: join != nil
        case .durability: durability != nil
        case .cachedRecords: cachedRecords != nil
        case .profile: profile != nil
        case .requestTimeout: requestTimeout != nil
        case .probeInterval: probeInterval != nil
        case .handoffInterval: handoffInterval != nil
        case .maxValueBytes: maxValueBytes != nil
        case .siblingWarning: siblingWarning != nil
        case .siblingLimit: siblingLimit != nil
        case .tombstoneGrace: tombstoneGrace != nil
        case .reapInterval: reapInterval != nil
        case .maxConnections: maxConnections != nil
        case .maxPeerConnections: maxPeerConnections != nil
        case .idleTimeout: idleTimeout != nil
        case .requestHeaderTimeout: requestHeaderTimeout != nil
        case .maxHeaderBytes: maxHeaderBytes != nil
        case .maxKeyBytes: maxKeyBytes != nil
        case .maxFrameBytes: maxFrameBytes != nil
        case .peerQueueLimit: peerQueueLimit != nil
        case .peerBufferBytes: peerBufferBytes != nil
        case .maxPendingOperations: maxPendingOperations != nil
        case .certsDir: certsDir != nil
        case .insecure: insecure != nil
        case .antiEntropyInterval: antiEntropyInterval != nil
        case .antiEntropyKeyBudget: antiEntropyKeyBudget != nil
        case .heartbeatInterval: heartbeatInterval != nil
        case .downAfter: downAfter != nil
        case .logLevel: logLevel != nil
        case .logFormat: logFormat != nil
        }
    }

    /// These options, with every setting that `other` gives taken from `other`.
    public func overridden(by other: SettingsLayer) -> SettingsLayer {
        var result = self
        result.name = other.name ?? name
        result.listen = other.listen ?? listen
        result.advertise = other.advertise ?? advertise
        result.http = other.http ?? http
        result.binaryListen = other.binaryListen ?? binaryListen
        result.dataDir = other.dataDir ?? dataDir
        result.join = other.join ?? join
        result.durability = other.durability ?? durability
        result.cachedRecords = other.cachedRecords ?? cachedRecords
        result.profile = other.profile ?? profile
        result.requestTimeout = other.requestTimeout ?? requestTimeout
        result.probeInterval = other.probeInterval ?? probeInterval
        result.handoffInterval = other.handoffInterval ?? handoffInterval
        result.maxValueBytes = other.maxValueBytes ?? maxValueBytes
        result.siblingWarning = other.siblingWarning ?? siblingWarning
        result.siblingLimit = other.siblingLimit ?? siblingLimit
        result.tombstoneGrace = other.tombstoneGrace ?? tombstoneGrace
        result.reapInterval = other.reapInterval ?? reapInterval
        result.maxConnections = other.maxConnections ?? maxConnections
        result.maxPeerConnections = other.maxPeerConnections ?? maxPeerConnections
        result.idleTimeout = other.idleTimeout ?? idleTimeout
        result.requestHeaderTimeout = other.requestHeaderTimeout ?? requestHeaderTimeout
        result.maxHeaderBytes = other.maxHeaderBytes ?? maxHeaderBytes
        result.maxKeyBytes = other.maxKeyBytes ?? maxKeyBytes
        result.maxFrameBytes = other.maxFrameBytes ?? maxFrameBytes
        result.peerQueueLimit = other.peerQueueLimit ?? peerQueueLimit
        result.peerBufferBytes = other.peerBufferBytes ?? peerBufferBytes
        result.maxPendingOperations = other.maxPendingOperations ?? maxPendingOperations
        result.certsDir = other.certsDir ?? certsDir
        result.insecure = other.insecure ?? insecure
        result.antiEntropyInterval = other.antiEntropyInterval ?? antiEntropyInterval
        result.antiEntropyKeyBudget = other.antiEntropyKeyBudget ?? antiEntropyKeyBudget
        result.heartbeatInterval = other.heartbeatInterval ?? heartbeatInterval
        result.downAfter = other.downAfter ?? downAfter
        result.logLevel = other.logLevel ?? logLevel
        result.logFormat = other.logFormat ?? logFormat
        return result
    }

    /// Sets `setting` from its text, as the environment gives it.
    ///
    /// - Throws: what is wrong with the text ("must be …, got …"), for the
    ///   caller to prefix with where it came from.
    mutating func set(_ setting: NodeSetting, text: String) throws(SettingsError) {
        func number<T: LosslessStringConvertible>(_ type: T.Type, _ what: String) throws(SettingsError) -> T {
            guard let value = T(text) else { throw SettingsError("must be \(what), got '\(text)'") }
            return value
        }
        switch setting {
        case .name: name = text
        case .listen: listen = text
        case .advertise: advertise = text
        case .http: http = text
        case .binaryListen: binaryListen = text
        case .dataDir: dataDir = text
        case .join: join = text
        case .durability:
            guard let value = SQLiteStorage.Durability(rawValue: text) else {
                throw SettingsError("must be one of \(Self.choices(SQLiteStorage.Durability.self)), got '\(text)'")
            }
            durability = value
        case .profile:
            guard let value = NodeConfig.Profile(rawValue: text) else {
                throw SettingsError("must be one of \(Self.choices(NodeConfig.Profile.self)), got '\(text)'")
            }
            profile = value
        case .cachedRecords: cachedRecords = try number(Int.self, "a whole number")
        case .requestTimeout: requestTimeout = try number(Double.self, "a number of seconds")
        case .probeInterval: probeInterval = try number(Double.self, "a number of seconds")
        case .handoffInterval: handoffInterval = try number(Double.self, "a number of seconds")
        case .maxValueBytes: maxValueBytes = try number(Int.self, "a whole number of bytes")
        case .siblingWarning: siblingWarning = try number(Int.self, "a whole number of versions")
        case .siblingLimit: siblingLimit = try number(Int.self, "a whole number of versions")
        case .tombstoneGrace: tombstoneGrace = try number(Double.self, "a number of seconds")
        case .reapInterval: reapInterval = try number(Double.self, "a number of seconds")
        case .maxConnections: maxConnections = try number(Int.self, "a whole number of connections")
        case .maxPeerConnections: maxPeerConnections = try number(Int.self, "a whole number of connections")
        case .idleTimeout: idleTimeout = try number(Double.self, "a number of seconds")
        case .requestHeaderTimeout: requestHeaderTimeout = try number(Double.self, "a number of seconds")
        case .maxHeaderBytes: maxHeaderBytes = try number(Int.self, "a whole number of bytes")
        case .maxKeyBytes: maxKeyBytes = try number(Int.self, "a whole number of bytes")
        case .maxFrameBytes: maxFrameBytes = try number(Int.self, "a whole number of bytes")
        case .peerQueueLimit: peerQueueLimit = try number(Int.self, "a whole number of messages")
        case .peerBufferBytes: peerBufferBytes = try number(Int.self, "a whole number of bytes")
        case .maxPendingOperations: maxPendingOperations = try number(Int.self, "a whole number of operations")
        case .certsDir: certsDir = text
        case .insecure:
            switch text.lowercased() {
            case "1", "true", "yes": insecure = true
            case "0", "false", "no": insecure = false
            default: throw SettingsError("must be true or false (1 or 0, yes or no), got '\(text)'")
            }
        case .antiEntropyInterval: antiEntropyInterval = try number(Double.self, "a number of seconds")
        case .antiEntropyKeyBudget: antiEntropyKeyBudget = try number(Int.self, "a whole number of keys")
        case .heartbeatInterval: heartbeatInterval = try number(Double.self, "a number of seconds")
        case .downAfter: downAfter = try number(Double.self, "a number of seconds")
        case .logLevel:
            guard let value = Logger.Level(rawValue: text) else {
                throw SettingsError("must be one of \(Self.choices(Logger.Level.self)), got '\(text)'")
            }
            logLevel = value
        case .logFormat:
            guard let value = LogFormat(rawValue: text) else {
                throw SettingsError("must be one of \(Self.choices(LogFormat.self)), got '\(text)'")
            }
            logFormat = value
        }
    }

    /// The settings the environment gives: every `KVORUM_…` variable of a
    /// setting that is set and not empty. Other variables are not read.
    public init(environment: [String: String]) throws(SettingsError) {
        self.init()
        for setting in NodeSetting.allCases {
            guard let text = environment[setting.environmentVariable], !text.isEmpty else { continue }
            do {
                try set(setting, text: text)
            } catch {
                throw SettingsError("\(setting.environmentVariable) \(error.description)")
            }
        }
    }

    private static func choices<T: CaseIterable & RawRepresentable<String>>(_ type: T.Type) -> String {
        T.allCases.map(\.rawValue).joined(separator: ", ")
    }
}

/// A setting that cannot be used, with a message that names the setting,
/// where it came from, and what to do.
public struct SettingsError: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
