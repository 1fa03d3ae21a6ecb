/// How a client operation ended.
public enum Outcome: String, Codable, Sendable, CaseIterable {
    case ok, fail, info
    /// Invoked and never completed before the history ended: indeterminate,
    /// like `info` (Jepsen treats such operations the same way).
    case unfinished
}

/// One client operation: its invocation and, if the history has it, its
/// completion.
struct Operation {
    /// What the client sent (`value`, `item` and `context` come from here).
    var invoke: OperationRecord
    /// What came back (`metadata`, `values`, `error`).
    var completion: OperationRecord?
    var outcome: Outcome

    var op: Int { invoke.op }
    var key: String { invoke.key }
    var start: Double { invoke.time }
    /// The completion's time; an unfinished operation may take effect until
    /// the end of the run.
    var end: Double { completion?.time ?? .infinity }
    var isWrite: Bool { invoke.f == .write }
}

/// Pairs every invocation with its completion, in invocation order, and
/// reports what does not pair up: a completion without an invocation, a
/// second completion, an `op` invoked twice, a completion that names another
/// process, workload, function, key or node than its invocation, an `ok`
/// write without metadata or an `ok` read without values. The first
/// invocation and the first completion of an `op` count; later ones are
/// reported and ignored.
struct OperationLog {
    private(set) var operations: [Operation] = []
    private(set) var problems: [Violation] = []
    private var indexByOp: [Int: Int] = [:]

    init(_ entries: [HistoryEntry]) {
        for entry in entries {
            switch entry {
            case .invoke(let record): invoke(record)
            case .ok(let record): complete(record, .ok)
            case .fail(let record): complete(record, .fail)
            case .info(let record): complete(record, .info)
            case .nemesis, .final: continue
            }
        }
    }

    private mutating func invoke(_ record: OperationRecord) {
        guard indexByOp[record.op] == nil else {
            report(record, "op \(record.op) is invoked twice (the second invocation at \(seconds(record.time)) s)")
            return
        }
        indexByOp[record.op] = operations.count
        operations.append(Operation(invoke: record, completion: nil, outcome: .unfinished))
    }

    private mutating func complete(_ record: OperationRecord, _ outcome: Outcome) {
        guard let index = indexByOp[record.op] else {
            report(record, "op \(record.op) completes (\(outcome.rawValue)) without an invocation before it")
            return
        }
        let invoke = operations[index].invoke
        if let first = operations[index].completion {
            report(
                record,
                "op \(record.op) completes twice: \(operations[index].outcome.rawValue) at \(seconds(first.time)) s, "
                    + "then \(outcome.rawValue) at \(seconds(record.time)) s")
            return
        }
        operations[index].completion = record
        operations[index].outcome = outcome
        let differing = Self.identityDifferences(invoke, record)
        if !differing.isEmpty {
            report(
                record,
                "op \(record.op)'s completion names another \(differing.joined(separator: ", ")) than its invocation")
        }
        guard outcome == .ok else { return }
        if invoke.f == .write, record.metadata == nil {
            report(record, "write op \(record.op) is ok without the new version's metadata")
        }
        if invoke.f == .read, record.values == nil {
            report(record, "read op \(record.op) is ok without the values read")
        }
    }

    private static func identityDifferences(_ a: OperationRecord, _ b: OperationRecord) -> [String] {
        var differing: [String] = []
        if a.process != b.process { differing.append("process") }
        if a.workload != b.workload { differing.append("workload") }
        if a.f != b.f { differing.append("function") }
        if a.key != b.key { differing.append("key") }
        if a.node != b.node { differing.append("node") }
        return differing
    }

    private mutating func report(_ record: OperationRecord, _ detail: String) {
        problems.append(
            Violation(kind: .malformed, key: record.key, value: record.value, op: record.op, detail: detail))
    }
}

/// Seconds with millisecond precision, for reports.
func seconds(_ time: Double) -> String {
    guard time != .infinity else { return "end" }
    guard abs(time) < 1e12 else { return String(time) }
    let millis = Int((time * 1000).rounded())
    let sign = millis < 0 ? "-" : ""
    let magnitude = abs(millis)
    let fraction = String(magnitude % 1000)
    return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
