/// Something that happened inside a node that an operator may want to see:
/// a peer suspected or heard from again, and (as the server grows its
/// metrics and logs) the node's other background work.
///
/// Observations are not effects: nothing has to be done for the node's sake,
/// and dropping them changes nothing it does. A driver reads them after each
/// `KvorumNode.handle` (`KvorumNode.observations`), like the effects; the
/// next event clears them. The server logs and counts them; the simulator and
/// the model checker ignore them. They are as deterministic as the effects.
public enum Observation: Hashable, Sendable {
    /// A member failed to answer in time and is now suspected.
    case peerSuspected(String)
    /// A suspected member was heard from again.
    case peerRecovered(String)
    /// A member was not heard from for `NodeConfig.downAfter` seconds.
    case peerDown(String)
    /// A member reported down was heard from again.
    case peerUp(String)
}
