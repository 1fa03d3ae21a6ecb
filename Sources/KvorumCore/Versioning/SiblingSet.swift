/// All the versions of one key that no other known version descends: the
/// record a replica stores and exchanges (Dynamo §4.4 "reconciliation").
///
/// Kept in canonical order (by metadata bytes), so two replicas holding the
/// same versions hold equal values and encode them identically.
public struct SiblingSet: Hashable, Sendable, Codable {
    public private(set) var versions: [Version]

    public init() { versions = [] }

    /// Builds a set from arbitrary versions, dropping those another descends.
    public init(_ versions: [Version], policy: MergePolicy = .keepAll) {
        // One version or none is canonical under `.keepAll` as it is
        // (what `add` would build): every record decoded from a peer or
        // the store holds one, most often, and skips the checks.
        if policy == .keepAll, versions.count <= 1 {
            self.versions = versions
            return
        }
        self.versions = []
        add(versions, policy: policy)
    }

    public var isEmpty: Bool { versions.isEmpty }
    /// Whether every version is a tombstone (and there is one): the key is
    /// deleted, and the record waits to be reaped.
    public var isDeleted: Bool { !versions.isEmpty && versions.allSatisfy(\.isTombstone) }
    public var values: [String] { versions.map(\.value) }
    public var metadata: [String] { versions.map(\.metadata) }

    /// The join of every version's history: a context that supersedes them all.
    ///
    /// Built in one pass, normalized once: joining history after history
    /// normalized (sorted) the growing list of dots at every step. A
    /// context's normal form depends only on the events it holds, so the
    /// result is the same.
    public var context: VersionVector {
        var context = VersionVector()
        var dots: [Dot] = []
        for version in versions {
            context.joinRanges(of: version.past)
            dots.append(contentsOf: version.past.dots)
            if let dot = version.dot { dots.append(dot) }
        }
        context.add(contentsOf: dots)
        return context
    }

    /// The highest counter `actor` has used in any version or causal past here.
    /// The same as `context.maxCounter(of:)`, without building the context
    /// (nor copying a version: each is read where it is stored).
    public func maxCounter(of actor: String) -> UInt64 {
        var highest: UInt64 = 0
        for i in versions.indices {
            highest = max(highest, versions[i].maxCounter(of: actor))
        }
        return highest
    }

    /// True when `self` already holds everything `other` holds.
    public func contains(_ other: SiblingSet) -> Bool {
        other.versions.allSatisfy { theirs in versions.contains { $0.descends(theirs) } }
    }

    /// Adds versions (a sync in DVV terms): keeps every version that nothing
    /// else descends, then lets the policy resolve what remains.
    public mutating func add(_ incoming: [Version], policy: MergePolicy) {
        if isCanonical(under: policy), incoming.allSatisfy(versions.contains) { return }
        if policy == .keepAll, incoming.count == 1, addNew(incoming[0]) { return }
        var all = versions
        for version in incoming {
            if let i = all.firstIndex(where: { $0.isSameVersion(as: version) }) {
                all[i] = policy.combineSameVersion(all[i], version)
            } else {
                all.append(version)
            }
        }
        let survivors = all.filter { candidate in
            !all.contains { other in !other.isSameVersion(as: candidate) && other.descends(candidate) }
        }
        let resolved = policy.resolve(survivors)
        guard resolved.count > 1 else {
            versions = resolved
            return
        }
        // Each version's metadata is encoded once, not once per comparison,
        // and the positions are sorted rather than the versions themselves.
        let keys = resolved.map(Metadata.bytes(of:))
        versions = resolved.indices.sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) }.map { resolved[$0] }
    }

    /// `add([version], policy: .keepAll)` for a version that is not already
    /// here (as itself or another copy of it), in one pass: in a `.keepAll`
    /// set no version descends another, so only the pairs with the new
    /// version need checking (both ways, as `add` checks them), and the
    /// survivors stay in order. Returns false, changing nothing, when a copy
    /// of the version is here.
    private mutating func addNew(_ version: Version) -> Bool {
        guard !versions.contains(where: { $0.isSameVersion(as: version) }) else { return false }
        let superseded = versions.contains { $0.descends(version) }
        versions.removeAll { version.descends($0) }
        if superseded { return true }
        // Alone (it superseded everything here, as an overwrite does), it
        // needs no place among others, nor the metadata that orders them.
        guard !versions.isEmpty else {
            versions = [version]
            return true
        }
        let key = Metadata.bytes(of: version)
        let place = versions.firstIndex { key.lexicographicallyPrecedes(Metadata.bytes(of: $0)) } ?? versions.endIndex
        versions.insert(version, at: place)
        return true
    }

    /// Adds every version of `other`: `add(other.versions, policy:)`, except
    /// that a set `other` already holds in full merely takes `other` when
    /// `other` is canonical, which is what `add` would produce.
    public mutating func merge(_ other: SiblingSet, policy: MergePolicy) {
        guard other.isCanonical(under: policy), versions.allSatisfy(other.versions.contains) else {
            add(other.versions, policy: policy)
            return
        }
        versions = other.versions
    }

    public func merged(with other: SiblingSet, policy: MergePolicy) -> SiblingSet {
        var copy = self
        copy.merge(other, policy: policy)
        return copy
    }

    /// Whether `add` under `policy` would leave this set as it is when given
    /// nothing new. Every set `add` builds, under any policy, holds versions no
    /// other descends in metadata order, which `.keepAll` keeps as they are;
    /// the merging policies keep a set as it is only when it has one version
    /// at most.
    private func isCanonical(under policy: MergePolicy) -> Bool {
        policy == .keepAll || versions.count <= 1
    }
}

extension SiblingSet {
    private enum CodingKeys: String, CodingKey {
        case versions
    }

    /// Decodes a set in canonical form, as `init(_:)` builds it: a set from
    /// outside (a peer's JSON over the stdio bridge, an old store) may list a
    /// version another descends, or list them out of order, and `add` and
    /// `merge` take their shortcuts only for canonical sets.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode([Version].self, forKey: .versions))
    }
}
