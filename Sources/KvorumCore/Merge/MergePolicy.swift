/// How concurrent versions (siblings) of a key are resolved.
///
/// Dynamo §4.4 leaves reconciliation to the application; its example is the
/// shopping cart whose merge keeps every added item. Kvorum picks the policy
/// from the key's text: keys starting with `cart` use `.cart`, keys starting with
/// `xcart` use `.xcart`, all others `.keepAll`.
public enum MergePolicy: Sendable, Equatable {
    /// Keep every concurrent version and return them all.
    case keepAll
    /// Merge concurrent versions into one whose value is the union of the items
    /// (comma-separated) of every sibling, in byte-wise order, without duplicates.
    case cart
    /// A cart that also respects removals: an observed-remove set carried in
    /// `Version.tags` (and its removals in `Version.removed`), merged into one
    /// version with the OR-set join (see `XCart`).
    case xcart

    public static func forKey(_ key: Key) -> MergePolicy {
        if key.text.hasPrefix("cart") { return .cart }
        if key.text.hasPrefix("xcart") { return .xcart }
        return .keepAll
    }

    /// The version a write of `value` with `context` creates, given the
    /// coordinator's record `local`: `xcart` versions carry their tag table
    /// and removals, built from the state the client saw at `context` (see
    /// `XCart.write`), so the result does not depend on what else reached
    /// the coordinator first.
    ///
    /// A delete of an `xcart` key is the write of an empty cart, as a
    /// tombstone: it removes exactly the items its context saw.
    func newVersion(dot: Dot, context: VersionVector?, payload: Payload, local: SiblingSet) -> Version {
        let past = context ?? VersionVector()
        guard self == .xcart else { return Version(dot: dot, past: past, payload: payload) }
        let write = XCart.write(value: payload.value?.text ?? "", dot: dot, context: past, local: local)
        return Version(dot: dot, past: past, payload: payload, tags: write.tags, removed: write.removed)
    }

    /// Resolves the versions no other version descends.
    func resolve(_ siblings: [Version]) -> [Version] {
        guard siblings.count > 1 else { return siblings }
        switch self {
        case .keepAll: return siblings
        case .xcart: return [XCart.merge(siblings)]
        case .cart:
            let past = siblings.reduce(into: VersionVector()) { $0.join($1.history) }
            return [Version(dot: nil, past: past, payload: CartMerge.merged(siblings, items: CartMerge.union))]
        }
    }

    /// Two copies of the same version meeting. Writes give each dot exactly one
    /// value, so for dotted versions both copies agree; two merged cart versions
    /// of the same history may differ while a merge is still spreading (one
    /// replica merged a sibling the other had already seen superseded), and
    /// their union is what both converge to. For `xcart` the copies' tag
    /// tables meet with the OR-set join and their removals with the union,
    /// whose results both converge to.
    func combineSameVersion(_ a: Version, _ b: Version) -> Version {
        if self == .xcart, a != b {
            let tags = XCart.join([a, b])
            let payload =
                a.dot == nil
                ? CartMerge.merged([a, b]) { _ in XCart.value(of: tags) }
                : (Payload.precedes(a.payload, b.payload) ? b.payload : a.payload)
            return Version(dot: a.dot, past: a.past, payload: payload, tags: tags, removed: XCart.removals([a, b]))
        }
        guard a.payload != b.payload else { return a }
        if a.dot == nil, self == .cart {
            return Version(dot: nil, past: a.past, payload: CartMerge.merged([a, b], items: CartMerge.union))
        }
        return Payload.precedes(a.payload, b.payload) ? b : a
    }
}

/// The cart value codec: comma-separated items.
public enum CartMerge {
    /// The payload of a merged cart version: a tombstone when every version
    /// it merges is one (a cart is deleted only when no concurrent write kept
    /// it alive), otherwise the value `items` makes of the live versions'
    /// texts, with their content type when they all agree on one.
    static func merged(_ versions: [Version], items: ([String]) -> String) -> Payload {
        let live = versions.compactMap(\.payload.value)
        guard let first = live.first else { return .tombstone }
        let contentType = live.allSatisfy { $0.contentType == first.contentType } ? first.contentType : nil
        return .value(Value(bytes: Array(items(live.map(\.text)).utf8), contentType: contentType))
    }

    /// Items of a cart value: split on commas, surrounding spaces trimmed,
    /// empty items dropped.
    public static func items(_ value: String) -> [String] {
        value.split(separator: ",", omittingEmptySubsequences: true)
            .map { $0.trimmingSpaces() }
            .filter { !$0.isEmpty }
    }

    /// Every item of every value, once each, in byte-wise order.
    ///
    /// Items are compared by their bytes, not by `String` equality, which
    /// treats Unicode-equivalent spellings as equal and would keep whichever
    /// came first, making the merged bytes depend on the order of the siblings.
    public static func union(_ values: [String]) -> String {
        var all: [String] = []
        for item in values.flatMap(items).sorted(by: byteOrder)
        where all.last.map({ !$0.utf8.elementsEqual(item.utf8) }) ?? true {
            all.append(item)
        }
        return all.joined(separator: ",")
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self[...]
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
