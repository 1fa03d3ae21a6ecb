/// One page of `GET /kv`: keys in byte order, and the cursor of the next
/// page (nil once the listing is complete).
public struct KeyListingPage: Sendable, Equatable, Decodable {
    public var keys: [String]
    public var next: String?

    public init(keys: [String], next: String?) {
        self.keys = keys
        self.next = next
    }
}

extension KvorumClient {
    /// One page of the cluster's live keys that start with `prefix` and come
    /// after `after` in byte order, at most `limit` (the node's default when nil).
    public func keys(prefix: String? = nil, after: String? = nil, limit: Int? = nil)
        async throws(KvorumClientError) -> KeyListingPage
    {
        try await send(.keys(prefix: prefix, after: after, limit: limit)).decode(KeyListingPage.self)
    }
}
