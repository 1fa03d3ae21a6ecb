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
        self.versions = []
        add(versions, policy: policy)
    }

    public var isEmpty: Bool { versions.isEmpty }
    public var values: [String] { versions.map(\.value) }
    public var metadata: [String] { versions.map(\.metadata) }

    /// The join of every version's history: a context that supersedes them all.
    public var context: VersionVector {
        versions.reduce(into: VersionVector()) { $0.join($1.history) }
    }

    /// The highest counter `actor` has used in any version or causal past here.
    public func maxCounter(of actor: String) -> UInt64 { context.maxCounter(of: actor) }

    /// True when `self` already holds everything `other` holds.
    public func contains(_ other: SiblingSet) -> Bool {
        other.versions.allSatisfy { theirs in versions.contains { $0.descends(theirs) } }
    }

    /// Adds versions (a sync in DVV terms): keeps every version that nothing
    /// else descends, then lets the policy resolve what remains.
    public mutating func add(_ incoming: [Version], policy: MergePolicy) {
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
        // Each version's metadata is encoded once, not once per comparison.
        versions = resolved.map { (key: $0.metadata, version: $0) }.sorted { byteOrder($0.key, $1.key) }
            .map(\.version)
    }

    public func merged(with other: SiblingSet, policy: MergePolicy) -> SiblingSet {
        var copy = self
        copy.add(other.versions, policy: policy)
        return copy
    }
}
