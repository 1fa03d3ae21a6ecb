/// One add of an item to an `xcart` value: the item and the dot of the write
/// that added it (an observed-remove set's unique tag).
///
/// Items are compared by their bytes, like `CartMerge.union` does, so two
/// Unicode-equivalent spellings stay two items and the merged bytes never
/// depend on which spelling arrived first.
public struct ItemTag: Sendable, Codable, Hashable, CustomStringConvertible {
    public var item: String
    public var dot: Dot

    public init(item: String, dot: Dot) {
        self.item = item
        self.dot = dot
    }

    public static func == (a: ItemTag, b: ItemTag) -> Bool {
        a.dot == b.dot && a.item.utf8.elementsEqual(b.item.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dot)
        hasher.combine(item.utf8.count)
        for byte in item.utf8 { hasher.combine(byte) }
    }

    public var description: String { "\(item)@\(dot.actor):\(dot.counter)" }

    /// Canonical order: item bytes, then actor bytes, then counter.
    static func precedes(_ a: ItemTag, _ b: ItemTag) -> Bool {
        if !a.item.utf8.elementsEqual(b.item.utf8) { return byteOrder(a.item, b.item) }
        if !a.dot.actor.utf8.elementsEqual(b.dot.actor.utf8) { return byteOrder(a.dot.actor, b.dot.actor) }
        return a.dot.counter < b.dot.counter
    }
}

/// The `xcart` merge: a cart whose items form an observed-remove set
/// (Shapiro et al., "A comprehensive study of Convergent and Commutative
/// Replicated Data Types", 2011, §3.3.5) carried with the versions.
///
/// Every item of an `xcart` version carries the dots of the writes that added
/// it (`Version.tags`). A write keeps the tags of the items it kept and gives
/// the items it added its own dot; an item it left out is removed, because its
/// tags are covered by the write's past (the context the client read) without
/// being in its table. Concurrent versions merge with the causal OR-set join
/// (Almeida et al., "Delta State Replicated Data Types", 2018): an (item, tag)
/// pair survives when every sibling either holds it or never saw that add. So
/// a removed item stays removed, and an add the remover never saw wins.
public enum XCart {
    /// Sorted canonically, duplicates dropped.
    static func canonical(_ tags: some Sequence<ItemTag>) -> [ItemTag] {
        var out: [ItemTag] = []
        for tag in tags.sorted(by: ItemTag.precedes) where out.last != tag {
            out.append(tag)
        }
        return out
    }

    /// The (item, tag) pairs a version stands for: its table, or, for a
    /// version written without one (before the key's versions carried tags),
    /// every item tagged with the version's own dot.
    static func tags(of version: Version) -> [ItemTag] {
        if let tags = version.tags { return tags }
        guard let dot = version.dot else { return [] }
        return canonical(CartMerge.items(version.value).map { ItemTag(item: $0, dot: dot) })
    }

    /// The OR-set join of versions: the pairs that every version either holds
    /// or has not seen the add of (its history does not cover the tag).
    static func join(_ versions: [Version]) -> [ItemTag] {
        let states = versions.map { (tags: Set(tags(of: $0)), history: $0.history) }
        var candidates: Set<ItemTag> = []
        for state in states { candidates.formUnion(state.tags) }
        return canonical(
            candidates.filter { tag in
                states.allSatisfy { $0.tags.contains(tag) || !$0.history.covers(tag.dot) }
            })
    }

    /// The cart value of a tag table: its items once each, byte-wise sorted, comma-joined.
    static func value(of tags: [ItemTag]) -> String {
        var items: [String] = []
        for tag in canonical(tags) where items.last.map({ !$0.utf8.elementsEqual(tag.item.utf8) }) ?? true {
            items.append(tag.item)
        }
        return items.joined(separator: ",")
    }

    /// One merged version (no dot) for concurrent siblings: the joined history,
    /// the surviving pairs and their items.
    static func merge(_ siblings: [Version]) -> Version {
        let past = siblings.reduce(into: VersionVector()) { $0.join($1.history) }
        let tags = join(siblings)
        return Version(dot: nil, past: past, value: value(of: tags), tags: tags)
    }

    /// The tag table of a new write of `value` with causal context `context`,
    /// coordinated by a replica holding `local`.
    ///
    /// An item the client kept keeps the tags it has in the client's view.
    /// The coordinator knows that view when its record's history covers the
    /// whole context: then the view's live pairs are the local pairs whose tag
    /// the context covers (a pair removed inside the context is absent
    /// locally too). Any other item, including one the client re-added after
    /// seeing it removed, gets the write's own dot. When the coordinator has
    /// not seen everything the client saw, it cannot tell a kept item from a
    /// re-added one, and every item gets the new dot: an add is never lost,
    /// at the price that a concurrent removal of such an item loses (add wins).
    static func tagsForWrite(value: String, dot: Dot, context: VersionVector, local: SiblingSet) -> [ItemTag] {
        var kept: [ItemTag] = []
        if local.context.dominatesOrEquals(context) {
            kept = join(local.versions).filter { context.covers($0.dot) }
        }
        var tags: [ItemTag] = []
        for item in CartMerge.items(value) {
            let mine = kept.filter { $0.item.utf8.elementsEqual(item.utf8) }
            tags += mine.isEmpty ? [ItemTag(item: item, dot: dot)] : mine
        }
        return canonical(tags)
    }
}
