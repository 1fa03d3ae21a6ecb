/// The timers a node arms. Drivers keep them by value and hand the same value
/// back in `Event.timer` when it fires.
public enum NodeTimer: Hashable, Sendable {
    /// Ping the suspected peers again.
    case probe
    /// Ping the members not heard from for an interval (the heartbeat).
    case heartbeat
    /// Retry the pending hinted handoffs.
    case handoff
    /// Ask the JOIN contact again.
    case join
    /// Start the next anti-entropy round.
    case antiEntropy
    /// Start the next view exchange round.
    case viewExchange
    /// Start the next tombstone reaping round.
    case reap
    /// An operation this node coordinates has waited long enough for replies.
    case operation(UInt64)

    /// The timer's name on the stdio protocol and in traces (`op:42` for an
    /// operation).
    public var name: String {
        switch self {
        case .probe: "probe"
        case .heartbeat: "heartbeat"
        case .handoff: "handoff"
        case .join: "join"
        case .antiEntropy: "antiEntropy"
        case .viewExchange: "viewExchange"
        case .reap: "reap"
        case .operation(let op): "op:\(op)"
        }
    }

    /// The timer with this name, or nil for a name no timer has.
    public init?(name: String) {
        switch name {
        case "probe": self = .probe
        case "heartbeat": self = .heartbeat
        case "handoff": self = .handoff
        case "join": self = .join
        case "antiEntropy": self = .antiEntropy
        case "viewExchange": self = .viewExchange
        case "reap": self = .reap
        default:
            guard name.hasPrefix("op:"), let op = UInt64(name.dropFirst(3)) else { return nil }
            self = .operation(op)
        }
    }
}

/// The timers a node has set that have neither fired nor been cancelled.
///
/// Only what is armed is cancelled (no stray `cancelTimer` effects), and a
/// firing of a timer that is not armed (a driver that cannot cancel, or a
/// firing already on its way) is recognised and ignored.
struct TimerSet: Hashable {
    private var armed: Set<NodeTimer> = []

    /// Arms `timer`, re-arming it if it is armed already.
    mutating func arm(_ timer: NodeTimer, after delay: Double, effects: inout [Effect]) {
        armed.insert(timer)
        effects.append(.setTimer(timer, after: delay))
    }

    /// Arms `timer` unless it is armed already.
    mutating func armIfIdle(_ timer: NodeTimer, after delay: Double, effects: inout [Effect]) {
        guard !armed.contains(timer) else { return }
        arm(timer, after: delay, effects: &effects)
    }

    /// Cancels `timer` if it is armed.
    mutating func cancel(_ timer: NodeTimer, effects: inout [Effect]) {
        guard armed.remove(timer) != nil else { return }
        effects.append(.cancelTimer(timer))
    }

    /// Takes a firing of `timer`: true if it was armed (it no longer is).
    mutating func fire(_ timer: NodeTimer) -> Bool {
        armed.remove(timer) != nil
    }

    func isArmed(_ timer: NodeTimer) -> Bool { armed.contains(timer) }

    /// The armed timers, by name.
    var sorted: [NodeTimer] { armed.sorted { byteOrder($0.name, $1.name) } }
}

extension NodeTimer: Codable {
    /// A timer is encoded as its name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let timer = NodeTimer(name: name) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "unknown timer '\(name)' (probe, heartbeat, handoff, join, antiEntropy, viewExchange, reap, op:N)")
        }
        self = timer
    }
}

extension NodeTimer: CustomStringConvertible {
    public var description: String { name }
}
