import KvorumCore

/// One version of a node's final copy of a key.
struct FinalVersion: Hashable {
    var value: String
    var metadata: String
    /// Nil for a merged (cart) version.
    var dot: Dot?
    /// The version's past plus its dot.
    var history: VersionVector
}

/// One node's final copy of one key.
struct FinalCopy {
    let node: String
    let workload: Workload
    let replica: Bool
    let versions: [FinalVersion]
    /// The siblings' values.
    let values: Set<String>
    /// Every cart item of every sibling (a cart's value is their union).
    let items: Set<String>
    /// The copy as compared between replicas (`FinalRecord.signature`).
    let signature: [String]

    init(node: String, workload: Workload, replica: Bool, versions: [FinalVersion], signature: [String]) {
        self.signature = signature
        self.node = node
        self.workload = workload
        self.replica = replica
        self.versions = versions
        values = Set(versions.map(\.value))
        items = Set(versions.flatMap { CartMerge.items($0.value) })
    }

    /// `["v1"@meta1, "v2"@meta2]`.
    var summary: String {
        "[" + versions.map { "\"\($0.value)\"@\($0.metadata)" }.joined(separator: ", ") + "]"
    }
}

/// The final records by key, their metadata parsed. Reported as malformed
/// and left out: a record whose values and metadata differ in number, a
/// second record of one key at one node, a record with a metadata string
/// that does not parse (a copy missing one version would pass for a replica
/// that lost it).
struct FinalState {
    private(set) var problems: [Violation] = []
    private var copiesByKey: [String: [FinalCopy]] = [:]

    init(_ entries: [HistoryEntry]) {
        for case .final(let record) in entries {
            add(record)
        }
    }

    /// Every key with a final record, in byte order.
    var keys: [String] { copiesByKey.keys.sorted(by: byteOrder) }

    /// Every node's copy of `key`, in the history's order.
    func copies(of key: String) -> [FinalCopy] {
        copiesByKey[key] ?? []
    }

    /// The copies of `key`'s replicas in the final ring.
    func replicaCopies(of key: String) -> [FinalCopy] {
        copies(of: key).filter(\.replica)
    }

    private mutating func add(_ record: FinalRecord) {
        guard record.values.count == record.metadata.count else {
            report(record, "\(record.values.count) values but \(record.metadata.count) metadata strings")
            return
        }
        guard !copies(of: record.key).contains(where: { $0.node == record.node }) else {
            report(record, "a second final record")
            return
        }
        var versions: [FinalVersion] = []
        for (value, metadata) in zip(record.values, record.metadata) {
            do throws(VersionText.ParseError) {
                versions.append(
                    FinalVersion(
                        value: value, metadata: metadata, dot: try VersionText.dot(of: metadata),
                        history: try VersionText.history(of: metadata)))
            } catch {
                report(record, "metadata \"\(metadata)\" of \"\(value)\": \(error)")
                return
            }
        }
        copiesByKey[record.key, default: []].append(
            FinalCopy(
                node: record.node, workload: record.workload, replica: record.replica, versions: versions,
                signature: record.signature))
    }

    private mutating func report(_ record: FinalRecord, _ detail: String) {
        problems.append(
            Violation(kind: .malformed, key: record.key, nodes: [record.node], detail: "final record: " + detail))
    }
}
