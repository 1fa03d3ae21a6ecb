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
    /// This coordinator's read found replicas holding less than the merged
    /// result and sent them (or stored for itself) the merge: read repair.
    case readRepaired(key: Key, replicas: Int)
    /// This node stored a hint: `target` is owed its copy of a key (hinted
    /// handoff, or a record moving to a new replica after a view change).
    case hintStored(target: String)
    /// `target` acknowledged a handoff batch: `keys` hints are done.
    case hintsHandedOff(target: String, keys: Int)
    /// A handoff to `target` began: `keys` hints are pending for it.
    case handoffStarted(target: String, keys: Int)
    /// A handoff to `target` ended: no hint for it is pending any more.
    case handoffFinished(target: String)
    /// An anti-entropy round began: this node sent `peer` the top of its hash tree.
    case antiEntropyRound(peer: String)
    /// An anti-entropy exchange reached the keys: this node sends `sent`
    /// records the peer lacks or holds differently and asks for `requested`.
    case antiEntropyKeysExchanged(sent: Int, requested: Int)
    /// Records from an anti-entropy exchange changed `keys` of this node's keys.
    case antiEntropyRepaired(keys: Int)
    /// This node, as a contact, added the member `name` at `address` to its view.
    case joinAccepted(name: String, address: String)
    /// This node left the cluster (LEAVE).
    case memberLeft(name: String, address: String)
    /// This node took the member `name` at `address` out of the ring (REMOVE).
    case memberRemoved(name: String, address: String)
    /// This node's view of the membership changed; `members` are the members
    /// that are up now, in byte order.
    case viewChanged(members: [String])
}
