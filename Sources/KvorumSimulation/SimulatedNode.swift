import KvorumCore

/// Anything the simulator can drive: a state machine fed events, answering
/// with effects. `KvorumNode` is the real one; tests may plug in smaller ones.
public protocol SimulatedNode: AnyObject {
    /// Handles one event at virtual time `now` and returns the effects to apply.
    func handle(_ event: Event, now: Double) -> [Effect]
}

extension KvorumNode: SimulatedNode {}

/// Builds a node from its configuration and its (crash-surviving) storage.
public typealias NodeFactory = (NodeConfig, any Storage) -> any SimulatedNode
