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

/// A removal of one add: the (item, tag) pair `tag` and the dot of a write
/// whose history covers that add without holding it (the observed-remove
/// set's tombstone, kept with the remover so a later write can tell whether
/// its client saw the removal).
public struct RemovedTag: Sendable, Codable, Hashable, CustomStringConvertible {
    public var tag: ItemTag
    public var remover: Dot

    public init(tag: ItemTag, remover: Dot) {
        self.tag = tag
        self.remover = remover
    }

    public var description: String { "\(tag)-\(remover.actor):\(remover.counter)" }

    /// Canonical order: the tag's order, then remover actor bytes, then counter.
    static func precedes(_ a: RemovedTag, _ b: RemovedTag) -> Bool {
        if a.tag != b.tag { return ItemTag.precedes(a.tag, b.tag) }
        if !a.remover.actor.utf8.elementsEqual(b.remover.actor.utf8) {
            return byteOrder(a.remover.actor, b.remover.actor)
        }
        return a.remover.counter < b.remover.counter
    }
}

/// The `xcart` merge: a cart whose items form an observed-remove set
/// (Shapiro et al., "A comprehensive study of Convergent and Commutative
/// Replicated Data Types", 2011, §3.3.5) carried with the versions.
///
/// Every item of an `xcart` version carries the dots of the writes that added
/// it (`Version.tags`). A write keeps exactly the pairs its client saw for the
/// items it kept and gives the items it added its own dot; an item it left out
/// is removed, because its tags are covered by the write's past (the context
/// the client read) without being in its table. Concurrent versions merge with
/// the causal OR-set join (Almeida et al., "Delta State Replicated Data Types",
/// 2018): an (item, tag) pair survives when every sibling either holds it or
/// never saw that add. So a removed item stays removed, and an add the remover
/// never saw wins.
///
/// What the client saw is the set's state at the write's context, which the
/// coordinator's record may have moved past: a removal the client did not see
/// has dropped the pair from the record's live table. So every version also
/// carries the removals of its history (`Version.removed`: pair and remover),
/// and the state at a context is the live or removed pairs whose add the
/// context covers, minus those with a remover it covers. Because of that, two
/// writes from one context, one removing an item and one keeping it, give the
/// same cart in either arrival order: the keeping write keeps the pair the
/// removal deletes. Removals are kept for good (an old context may still
/// come back), so a key's versions grow with every item removed from it.
public enum XCart {
    /// Sorted canonically, duplicates dropped.
    static func canonical(_ tags: some Sequence<ItemTag>) -> [ItemTag] {
        var out: [ItemTag] = []
        for tag in tags.sorted(by: ItemTag.precedes) where out.last != tag {
            out.append(tag)
        }
        return out
    }

    /// Sorted canonically, duplicates dropped.
    static func canonical(_ removed: some Sequence<RemovedTag>) -> [RemovedTag] {
        var out: [RemovedTag] = []
        for entry in removed.sorted(by: RemovedTag.precedes) where out.last != entry {
            out.append(entry)
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

    /// Every removal the versions know of.
    static func removals(_ versions: [Version]) -> [RemovedTag] {
        canonical(versions.flatMap { $0.removed ?? [] })
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
    /// the surviving pairs and their items, and every sibling's removals.
    static func merge(_ siblings: [Version]) -> Version {
        let past = siblings.reduce(into: VersionVector()) { $0.join($1.history) }
        let tags = join(siblings)
        return Version(
            dot: nil, past: past, payload: CartMerge.merged(siblings) { _ in value(of: tags) }, tags: tags,
            removed: removals(siblings))
    }

    /// The set as a client with causal context `context` saw it, rebuilt from
    /// a record `local` whose history covers that context: the pairs whose add
    /// the context covers and that no removal inside the context deleted (live
    /// in `local`, or deleted there by a removal the client did not see), and
    /// the removals inside the context.
    static func view(at context: VersionVector, of local: SiblingSet) -> (live: [ItemTag], removed: [RemovedTag]) {
        let known = removals(local.versions)
        let seen = known.filter { context.covers($0.remover) && context.covers($0.tag.dot) }
        let seenRemoved = Set(seen.map(\.tag))
        let candidates = Set(join(local.versions)).union(known.map(\.tag))
        let live = candidates.filter { context.covers($0.dot) && !seenRemoved.contains($0) }
        return (canonical(live), seen)
    }

    /// The tag table and removals of a new write of `value` with causal
    /// context `context` and dot `dot`, coordinated by a replica holding `local`.
    ///
    /// An item the client kept keeps the pairs it has in the client's view
    /// (`view(at:of:)`), whatever the coordinator has learnt since. Any other
    /// item, including one the client re-added after seeing it removed, gets
    /// the write's own dot. Every pair of the view the write does not hold is
    /// a removal by this write; the write also carries the removals of its
    /// view. When the coordinator has not seen everything the client saw, it
    /// cannot tell a kept item from a re-added one, and every item gets the
    /// new dot: an add is never lost, at the price that a concurrent removal
    /// of such an item loses (add wins).
    static func write(value: String, dot: Dot, context: VersionVector, local: SiblingSet)
        -> (tags: [ItemTag], removed: [RemovedTag])
    {
        let view = view(at: context, of: local)
        let knowsView = local.context.dominatesOrEquals(context)
        var tags: [ItemTag] = []
        for item in CartMerge.items(value) {
            let kept = knowsView ? view.live.filter { $0.item.utf8.elementsEqual(item.utf8) } : []
            tags += kept.isEmpty ? [ItemTag(item: item, dot: dot)] : kept
        }
        let held = Set(tags)
        let dropped = view.live.filter { !held.contains($0) }.map { RemovedTag(tag: $0, remover: dot) }
        return (canonical(tags), canonical(view.removed + dropped))
    }
}
