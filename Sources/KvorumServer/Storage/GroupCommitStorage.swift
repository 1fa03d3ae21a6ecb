import KvorumCore

/// A store that can commit many changes at once (group commit). Between
/// `beginBatch()` and `commitBatch()` its changes are not yet durable; whoever
/// opens a batch holds back every acknowledgement of those changes until the
/// commit returns.
public protocol GroupCommitStorage: Storage {
    /// Opens a batch; a no-op while one is open.
    func beginBatch()
    /// Commits the open batch, if any.
    func commitBatch()
    /// Whether the open batch holds changes not yet committed.
    var hasPendingChanges: Bool { get }
}
