/// A Kvorum node: the replication state machine. Placeholder API while the
/// coordination logic is written.
public final class KvorumNode {
    public let config: NodeConfig
    public let storage: any Storage

    public init(config: NodeConfig, storage: any Storage) {
        self.config = config
        self.storage = storage
    }

    public func handle(_ event: Event, now: Double) -> [Effect] {
        if case .client(let id, _) = event { return [.reply(id, .error("not implemented"))] }
        return []
    }
}
