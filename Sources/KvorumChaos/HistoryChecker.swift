import KvorumCore

/// Judges a fault run's history (Jepsen-style): pairs every invocation with
/// its completion, counts outcomes per workload, measures availability per
/// fault kind, and checks the final state against what the clients were told.
///
/// Writes are identified by their values, which the workloads keep unique per
/// run; causality comes only from what clients sent: write B supersedes write
/// A iff the context B's client sent (`Metadata.context(from:)`) covers a dot
/// A was executed under. Versions' dots and histories are read from their
/// metadata with KvorumCore's `Metadata` codec.
///
/// The rules, each in its own check: `LostWriteCheck` (acknowledged writes
/// and cart items stay, unless a client that read them replaced them),
/// `FalseSiblingCheck` (causally ordered writes are never siblings),
/// `ExecutionCheck` (a write executes at most once; a dot names one value),
/// `PhantomCheck` (every value or item was written by a client),
/// `DivergenceCheck` (replicas hold identical versions), and the malformed
/// history checks (`OperationLog`, `FaultTimeline`, `WriteCatalog`,
/// `FinalState`, `CompletenessCheck`): a history that cannot be judged is
/// reported, never passed and never crashed on.
public enum HistoryChecker {
    public static func check(_ entries: [HistoryEntry]) -> CheckReport {
        let log = OperationLog(entries)
        let timeline = FaultTimeline(entries)
        let catalog = WriteCatalog(log.operations)
        let final = FinalState(entries)
        let input = CheckInput(operations: log.operations, catalog: catalog, timeline: timeline, final: final)
        var violations = log.problems + timeline.problems + catalog.problems + final.problems
        violations += CompletenessCheck.run(input)
        violations += LostWriteCheck.run(input)
        violations += FalseSiblingCheck.run(input)
        violations += ExecutionCheck.run(input)
        violations += PhantomCheck.run(input)
        violations += DivergenceCheck.run(input)

        var counts = Workload.allCases.flatMap { workload in
            [OperationFunction.read, .write].map { OperationCounts(workload: workload, f: $0) }
        }
        for operation in log.operations {
            let index = counts.firstIndex { $0.workload == operation.invoke.workload && $0.f == operation.invoke.f }!
            counts[index].count(operation.outcome)
        }
        let keys = Set(log.operations.map(\.key)).union(final.keys)
        let finalRecords = entries.reduce(0) { count, entry in
            if case .final = entry { return count + 1 }
            return count
        }
        return CheckReport(
            operations: counts, availability: AvailabilityTally.rows(log.operations, timeline),
            faults: timeline.windows, keys: keys.count, finalRecords: finalRecords,
            violations: violations.sorted(by: order))
    }

    /// By kind (in `ViolationKind` order), key, op, then detail: the same
    /// history always gives the same report.
    private static func order(_ a: Violation, _ b: Violation) -> Bool {
        let kinds = ViolationKind.allCases
        if a.kind != b.kind { return kinds.firstIndex(of: a.kind)! < kinds.firstIndex(of: b.kind)! }
        if a.key != b.key { return byteOrder(a.key ?? "", b.key ?? "") }
        if a.op != b.op { return (a.op ?? -1) < (b.op ?? -1) }
        return byteOrder(a.detail, b.detail)
    }
}
