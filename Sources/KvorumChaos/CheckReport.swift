/// What a violation is; the rules are `HistoryChecker`'s.
public enum ViolationKind: String, Codable, Sendable, CaseIterable {
    case lostWrite = "lost-write"
    case falseSibling = "false-sibling"
    case duplicateExecution = "duplicate-execution"
    case dotReuse = "dot-reuse"
    case phantom
    case divergence
    case malformed

    /// The plural for summaries.
    var title: String {
        switch self {
        case .lostWrite: "lost writes"
        case .falseSibling: "false siblings"
        case .duplicateExecution: "duplicate executions"
        case .dotReuse: "reused dots"
        case .phantom: "phantoms"
        case .divergence: "divergent keys"
        case .malformed: "malformed entries"
        }
    }
}

/// One violation: what, where, which operation, and the faults active during
/// that operation (from its invocation to its acknowledgement).
public struct Violation: Codable, Hashable, Sendable {
    public var kind: ViolationKind
    public var key: String?
    public var value: String?
    public var item: String?
    /// The operation at fault: the lost write, the write kept as a false
    /// sibling, the write executed twice, the first write of a reused dot,
    /// the read that saw a phantom.
    public var op: Int?
    /// The other operation involved: the write whose context covered the
    /// false sibling, the second write of a reused dot.
    public var otherOp: Int?
    /// The nodes where it was seen.
    public var nodes: [String]
    /// Faults active at some instant of `op` (and `otherOp`).
    public var faults: [FaultWindow]
    public var detail: String

    public init(
        kind: ViolationKind, key: String? = nil, value: String? = nil, item: String? = nil, op: Int? = nil,
        otherOp: Int? = nil, nodes: [String] = [], faults: [FaultWindow] = [], detail: String
    ) {
        self.kind = kind
        self.key = key
        self.value = value
        self.item = item
        self.op = op
        self.otherOp = otherOp
        self.nodes = nodes
        self.faults = faults
        self.detail = detail
    }

    /// `[lost-write] reg-2 "p3-17" op 17 at n4 n5: …; during link-cut #3 (n1 | n2) 10.200–15.000 s`.
    public var line: String {
        var text = "[\(kind.rawValue)]"
        if let key { text += " \(key)" }
        if let value { text += " \"\(value)\"" }
        if let item { text += " item \"\(item)\"" }
        if let op { text += " op \(op)" }
        if let otherOp { text += " (with op \(otherOp))" }
        if !nodes.isEmpty { text += " at \(nodes.joined(separator: " "))" }
        text += ": \(detail)"
        if !faults.isEmpty { text += "; during " + faults.map(\.description).joined(separator: ", ") }
        return text
    }
}

/// Operation counts of one workload and function. `invoked` is `ok + fail +
/// info + unfinished`; `info` and `unfinished` are both indeterminate.
public struct OperationCounts: Codable, Hashable, Sendable {
    public var workload: Workload
    public var f: OperationFunction
    public var invoked = 0
    public var ok = 0
    public var fail = 0
    public var info = 0
    public var unfinished = 0

    public init(workload: Workload, f: OperationFunction) {
        self.workload = workload
        self.f = f
    }

    mutating func count(_ outcome: Outcome) {
        invoked += 1
        switch outcome {
        case .ok: ok += 1
        case .fail: fail += 1
        case .info: info += 1
        case .unfinished: unfinished += 1
        }
    }
}

/// Availability under one fault kind (`fault` nil: while no fault was
/// active), see `AvailabilityTally`.
public struct AvailabilityRow: Codable, Hashable, Sendable {
    public var fault: FaultKind?
    public var invoked: Int
    public var ok: Int
    /// `ok / invoked`, nil when no operation was invoked.
    public var availability: Double?

    public init(fault: FaultKind?, invoked: Int, ok: Int) {
        self.fault = fault
        self.invoked = invoked
        self.ok = ok
        availability = invoked == 0 ? nil : Double(ok) / Double(invoked)
    }
}

/// The checker's verdict on a history: counts, availability and violations.
public struct CheckReport: Sendable, Codable {
    /// Per workload and function, for every workload and function.
    public let operations: [OperationCounts]
    /// "No fault" first, then every fault kind.
    public let availability: [AvailabilityRow]
    /// The nemesis's fault windows.
    public let faults: [FaultWindow]
    /// Keys with operations or final records.
    public let keys: Int
    public let finalRecords: Int
    /// Ordered by kind, then key, then op.
    public let violations: [Violation]
    /// No violations.
    public let isValid: Bool

    public init(
        operations: [OperationCounts], availability: [AvailabilityRow], faults: [FaultWindow], keys: Int,
        finalRecords: Int, violations: [Violation]
    ) {
        self.operations = operations
        self.availability = availability
        self.faults = faults
        self.keys = keys
        self.finalRecords = finalRecords
        self.violations = violations
        isValid = violations.isEmpty
    }

    /// The violations of one kind.
    public func violations(_ kind: ViolationKind) -> [Violation] {
        violations.filter { $0.kind == kind }
    }

    /// The human summary: operation counts, availability, violation counts,
    /// every violation, and the verdict.
    public func rendered() -> String {
        let invoked = operations.reduce(0) { $0 + $1.invoked }
        var out =
            "history: \(invoked) operations, \(faults.count) faults, \(keys) keys, \(finalRecords) final records\n\n"
        out += TextTable.render(
            ["workload", "function", "invoked", "ok", "fail", "info", "unfinished"],
            operations.filter { $0.invoked > 0 }.map {
                [
                    $0.workload.rawValue, $0.f.rawValue, "\($0.invoked)", "\($0.ok)", "\($0.fail)", "\($0.info)",
                    "\($0.unfinished)",
                ]
            })
        out += "\navailability (operations invoked while a fault of the kind was active)\n"
        out += TextTable.render(
            ["fault", "invoked", "ok", "available"],
            availability.filter { $0.invoked > 0 || $0.fault == nil }.map {
                [$0.fault?.rawValue ?? "no fault", "\($0.invoked)", "\($0.ok)", Self.percent($0.availability)]
            })
        out += "\nviolations\n"
        out += TextTable.render(
            ["kind", "count"], ViolationKind.allCases.map { [$0.title, "\(violations($0).count)"] })
        if !violations.isEmpty { out += "\n" }
        for violation in violations {
            out += violation.line + "\n"
        }
        out += isValid ? "\nVALID: no violations\n" : "\nINVALID: \(violations.count) violations\n"
        return out
    }

    private static func percent(_ share: Double?) -> String {
        guard let share else { return "-" }
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }
}

/// Left-aligned text columns, two spaces apart.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1
                    ? row[column] : row[column] + String(repeating: " ", count: widths[column] - row[column].count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
