/// Bounds on how many versions (siblings, tombstones included) one key may
/// gather, as Riak bounds them (`object.siblings.warning_threshold` 25,
/// `object.siblings.maximum` 100).
///
/// Only a client's own write is ever refused, because only the client can
/// act on the refusal (read, then write back with the read's context):
/// hinted handoff, read repair and anti-entropy store whatever they carry,
/// since refusing them would lose data or leave replicas that never agree.
public struct SiblingBounds: Hashable, Sendable {
    /// Past this many versions a write is answered with a warning.
    public var warning: Int
    /// A write that would leave the key with more versions than this, and
    /// more than it had, is refused; a write that keeps or lowers the count
    /// (one with a context that supersedes a sibling) is always accepted.
    public var limit: Int

    public init(warning: Int = 25, limit: Int = 100) {
        precondition(warning >= 1 && limit >= 1, "sibling bounds must be positive")
        self.warning = warning
        self.limit = limit
    }

    /// Why a write that turns `before` versions into `after` is refused, or
    /// nil when it is accepted.
    func refusal(key: Key, before: Int, after: Int) -> String? {
        guard after > limit, after > before else { return nil }
        return "key '\(key)' has \(before) versions and the limit is \(limit): read it and write back "
            + "with the read's context to resolve its siblings"
    }

    /// Whether a key with `count` versions is past the warning threshold.
    public func warns(_ count: Int) -> Bool { count > warning }
}
