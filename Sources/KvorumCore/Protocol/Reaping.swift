/// When a node removes tombstones for good (docs/architecture.md, "Deletes").
///
/// A tombstone is reaped once every member of the cluster has answered two
/// checks, at least `grace` seconds apart, saying it holds exactly that
/// tombstone or nothing of the key, and every replica of the key holds it
/// (not a stand-in). A member that is down or cut off answers nothing and
/// holds reaping back, however long it is away.
public struct Reaping: Hashable, Sendable {
    /// The least time between the first and the last clean check. It must be
    /// longer than any message can stay in flight: a copy of the deleted
    /// value sent before the checks and delivered after the reap would come
    /// back. One hour is four times the ~15 minutes after which Linux gives up
    /// retransmitting on a TCP connection (`tcp_retries2` = 15).
    public var grace: Double
    /// How often a node checks the tombstones of keys it is the first replica of.
    public var interval: Double
    /// Keys per check round (one message per member each round).
    public var batchSize: Int

    public init(grace: Double = 3600, interval: Double = 10, batchSize: Int = 64) {
        precondition(grace >= 0 && interval > 0 && batchSize > 0, "reaping needs a grace ≥ 0, an interval and a batch")
        self.grace = grace
        self.interval = interval
        self.batchSize = batchSize
    }
}
