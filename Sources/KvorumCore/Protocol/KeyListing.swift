/// One page of a key listing asked for: the keys that start with `prefix`
/// and come after `after` in byte order, at most `limit` of them.
///
/// A listing is a coverage query (docs/architecture.md, "Key listing"): the
/// coordinator asks one replica of every partition and merges the answers
/// with `KeyPageMerge`.
public struct KeyQuery: Hashable, Sendable, Codable {
    /// The page sizes a client may ask for: a page travels in one message
    /// per asked node, so it is bounded.
    public static let limits = 1...10_000
    /// The page size when the client names none.
    public static let defaultLimit = 1_000

    /// Only keys that start with these bytes; empty for every key.
    public var prefix: Key
    /// Only keys after this one (the previous page's cursor); nil from the start.
    public var after: Key?
    public var limit: Int

    public init(prefix: Key = "", after: Key? = nil, limit: Int = KeyQuery.defaultLimit) {
        self.prefix = prefix
        self.after = after
        self.limit = limit
    }

    /// Why `limit` is not a page size, or nil when it is.
    public static func limitRefusal(_ limit: Int) -> String? {
        guard !limits.contains(limit) else { return nil }
        return "limit must be between \(limits.lowerBound) and \(limits.upperBound), got \(limit)"
    }

    /// Whether `key` starts with the prefix, byte for byte.
    public func matchesPrefix(_ key: Key) -> Bool {
        key.utf8.starts(with: prefix.utf8)
    }

    /// Whether `key` belongs on a page of this query: after the cursor and
    /// with the prefix.
    public func admits(_ key: Key) -> Bool {
        matchesPrefix(key) && after.map { $0 < key } != false
    }
}

/// A page of a key listing: keys in byte order, and the cursor to ask for
/// the next page with (`KeyQuery.after`), nil when the listing is complete.
public struct KeyPage: Hashable, Sendable {
    public var keys: [Key]
    public var next: Key?

    public init(keys: [Key], next: Key?) {
        self.keys = keys
        self.next = next
    }
}

/// Merges the answers of the nodes a listing asked into one page.
///
/// Every node answers for disjoint partitions with at most `limit` keys of
/// its own in byte order. A *full* answer (exactly `limit` keys) may have
/// left keys out after its last key, so the merge knows every key only up to
/// the smallest last key of a full answer, the horizon: the page holds the
/// first `limit` distinct keys up to the horizon. A full answer alone
/// contributes `limit` keys below it, so a page cut at the horizon is never
/// short, and the cursor (the page's last key) leaves no key behind.
public struct KeyPageMerge: Hashable, Sendable {
    public let limit: Int
    private var keys: Set<Key> = []
    /// The smallest last key of a full answer, if any answer was full.
    private var horizon: Key?

    public init(limit: Int) {
        precondition(limit >= 1, "a page holds at least one key")
        self.limit = limit
    }

    /// Adds one node's answer: its keys, and whether it stopped at the limit.
    public mutating func add(_ answer: [Key], full: Bool) {
        keys.formUnion(answer)
        if full, let last = answer.max() {
            horizon = horizon.map { min($0, last) } ?? last
        }
    }

    /// The page so far: what the listing answers once every node has.
    public var page: KeyPage {
        var known = keys.sorted()
        if let horizon, let cut = known.firstIndex(where: { $0 > horizon }) {
            known.removeSubrange(cut...)
        }
        let more = horizon != nil || known.count > limit
        let page = Array(known.prefix(limit))
        return KeyPage(keys: page, next: more ? page.last : nil)
    }
}
