/// How long a peer message takes from send to delivery.
public enum DelayModel: Sendable, Equatable {
    /// Every message takes exactly this many seconds.
    case fixed(Double)
    /// Each message takes a delay drawn uniformly from `[lower, upper)` seconds.
    case uniform(Double, Double)
}

/// When the simulator decides whether a peer message is lost.
public enum DropDecision: Sendable, Equatable {
    /// At the message's delivery time, as the course harness does: a message sent
    /// while a node was cut off still arrives if the node is reconnected in time.
    case atDelivery
    /// At send time: the connectivity of that moment and the random loss decide.
    case atSend
}

/// The network model: delays, random loss, duplication and reordering of peer
/// messages. Messages a node sends to itself are exempt from all of it.
public struct NetworkConfig: Sendable, Equatable {
    /// The delay of every peer message (before any reordering delay).
    public var delay: DelayModel = .fixed(0.1)
    /// Probability that a peer message is lost.
    public var dropRate: Double = 0
    /// Probability that a peer message is delivered twice; the copy gets its own
    /// delay (and its own loss and reordering draws).
    public var duplicateRate: Double = 0
    /// Probability that a message gets an extra delay drawn from `[0, reorderExtraDelay)`.
    public var reorderRate: Double = 0
    /// The largest extra delay of a reordered message, in seconds.
    public var reorderExtraDelay: Double = 1.0
    /// When connectivity and random loss are decided.
    public var dropDecision: DropDecision = .atDelivery

    /// Creates a network model; every parameter has the harness's default.
    public init(
        delay: DelayModel = .fixed(0.1),
        dropRate: Double = 0,
        duplicateRate: Double = 0,
        reorderRate: Double = 0,
        reorderExtraDelay: Double = 1.0,
        dropDecision: DropDecision = .atDelivery
    ) {
        self.delay = delay
        self.dropRate = dropRate
        self.duplicateRate = duplicateRate
        self.reorderRate = reorderRate
        self.reorderExtraDelay = reorderExtraDelay
        self.dropDecision = dropDecision
    }

    /// The course harness: every peer message takes 0.1 s; no loss, duplication
    /// or reordering; drops only from faults, decided at delivery.
    public static let harness = NetworkConfig()
}
