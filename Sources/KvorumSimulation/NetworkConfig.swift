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

/// What a cut (a cut link, a disconnected node, a partition) does to a peer
/// message that would cross it.
public enum CutModel: Sendable, Equatable {
    /// The message is lost, decided at send or at delivery per `DropDecision`:
    /// the course harness, and a transport that gives up on a dead peer.
    case drops
    /// The message waits and arrives late, as over the server's TCP
    /// connections (`PeerTransport`): a write to an established connection
    /// whose link is blackholed is retransmitted by the kernel and arrives, in
    /// order, once the link heals, possibly minutes later. A message that
    /// comes due while its link is cut is held per directed link; when the
    /// link heals, the held messages are delivered in the order they were
    /// held, except those sent more than `limit` seconds before the heal,
    /// which are dropped (the connection would have timed out). A crashed
    /// destination still loses them (its connections are reset); a crashed
    /// sender does not (the kernel keeps sending what was written).
    case holds(limit: Double)
}

/// Whether messages between two nodes keep their order.
public enum LinkOrder: Sendable, Equatable {
    /// Each message's delay is drawn on its own, so a later message on a
    /// link may arrive first (the course harness, with a random delay).
    case independent
    /// Messages from one node to another arrive in the order they were
    /// sent, as over the server's one TCP connection per pair of peers: a
    /// message drawn a shorter delay than the one before it on the link
    /// arrives right after that one. A reordering or long delay holds up
    /// what follows it, as a retransmission does.
    case fifo
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
    /// Whether a cut loses messages or holds them for late delivery.
    public var cuts: CutModel = .drops
    /// Whether each link keeps its messages in order.
    public var order: LinkOrder = .independent

    /// Creates a network model; every parameter has the harness's default.
    public init(
        delay: DelayModel = .fixed(0.1),
        dropRate: Double = 0,
        duplicateRate: Double = 0,
        reorderRate: Double = 0,
        reorderExtraDelay: Double = 1.0,
        dropDecision: DropDecision = .atDelivery,
        cuts: CutModel = .drops,
        order: LinkOrder = .independent
    ) {
        self.delay = delay
        self.dropRate = dropRate
        self.duplicateRate = duplicateRate
        self.reorderRate = reorderRate
        self.reorderExtraDelay = reorderExtraDelay
        self.dropDecision = dropDecision
        self.cuts = cuts
        self.order = order
    }

    /// The course harness: every peer message takes 0.1 s; no loss, duplication
    /// or reordering; drops only from faults, decided at delivery; a cut loses
    /// what crosses it.
    public static let harness = NetworkConfig()

    /// Like the server's transport: small random delays (10–100 ms), each
    /// link in order, and cuts that hold messages for late delivery, up to
    /// `holdLimit` seconds.
    public static func tcpLike(holdLimit: Double = 60) -> NetworkConfig {
        NetworkConfig(delay: .uniform(0.01, 0.1), cuts: .holds(limit: holdLimit), order: .fifo)
    }
}
