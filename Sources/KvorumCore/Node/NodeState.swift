/// Everything a node keeps in memory between events, as a composition of
/// parts that each own one mechanism. Storage is not here: it is the node's
/// durable half, injected by the driver.
///
/// `Hashable` is derived from the parts, so the model checker's fingerprint
/// of a node covers every field without listing any.
struct NodeState: Hashable, Sendable {
    var membership: MembershipState
    var detector = FailureDetector()
    var liveness = PeerLiveness()
    var hints: HintQueue
    var coordinator: Coordinator
    var timers = TimerSet()
    var antiEntropy: AntiEntropyState
    var reaper: Reaper
}

/// A node's volatile state as an opaque value: equal fingerprints and equal
/// storage mean two nodes behave identically from here on. For the model
/// checker, which recognises states it has explored.
public struct NodeFingerprint: Hashable, Sendable {
    let state: NodeState
}

extension KvorumNode {
    /// The node's volatile state (everything but storage), for the model checker.
    public var fingerprint: NodeFingerprint { NodeFingerprint(state: state) }
}
