/// One fault from its start to its stop (nil: never healed in the history,
/// so active until its end).
public struct FaultWindow: Codable, Hashable, Sendable, CustomStringConvertible {
    public var id: Int
    public var fault: FaultKind
    public var detail: String
    public var start: Double
    public var stop: Double?

    public init(id: Int, fault: FaultKind, detail: String, start: Double, stop: Double? = nil) {
        self.id = id
        self.fault = fault
        self.detail = detail
        self.start = start
        self.stop = stop
    }

    /// Active at `time`: started at or before it, not yet stopped.
    public func isActive(at time: Double) -> Bool {
        start <= time && time < (stop ?? .infinity)
    }

    /// Active at some instant of `[from, to]`.
    public func overlaps(from: Double, to: Double) -> Bool {
        start <= to && from < (stop ?? .infinity)
    }

    /// `link-cut #4 (n1 -> n2) 10.200–15.000 s`.
    public var description: String {
        let place = detail.isEmpty ? "" : " (\(detail))"
        return "\(fault.rawValue) #\(id)\(place) \(seconds(start))–\(stop.map(seconds) ?? "end") s"
    }
}

/// The nemesis records as fault windows, paired by `id`. Reported as
/// malformed: a stop without a start, a second start or stop of an `id`, a
/// stop of another kind than its start, a stop before its start.
struct FaultTimeline {
    private(set) var windows: [FaultWindow] = []
    private(set) var problems: [Violation] = []
    private var indexByID: [Int: Int] = [:]

    init(_ entries: [HistoryEntry]) {
        for case .nemesis(let record) in entries {
            switch record.phase {
            case .start: start(record)
            case .stop: stop(record)
            }
        }
    }

    /// The faults active at `time`, in start order.
    func active(at time: Double) -> [FaultWindow] {
        windows.filter { $0.isActive(at: time) }
    }

    /// The faults active at some instant of an operation, from its invocation
    /// to its completion (the end of the run if it never completed).
    func overlapping(_ operation: Operation) -> [FaultWindow] {
        windows.filter { $0.overlaps(from: operation.start, to: operation.end) }
    }

    private mutating func start(_ record: NemesisRecord) {
        guard indexByID[record.id] == nil else {
            report("fault #\(record.id) starts twice (again at \(seconds(record.time)) s)")
            return
        }
        indexByID[record.id] = windows.count
        windows.append(FaultWindow(id: record.id, fault: record.fault, detail: record.detail, start: record.time))
    }

    private mutating func stop(_ record: NemesisRecord) {
        guard let index = indexByID[record.id] else {
            report("fault #\(record.id) (\(record.fault.rawValue)) stops at \(seconds(record.time)) s without a start")
            return
        }
        let window = windows[index]
        if window.stop != nil {
            report("fault #\(record.id) stops twice (again at \(seconds(record.time)) s)")
        } else if window.fault != record.fault {
            report(
                "fault #\(record.id) starts as \(window.fault.rawValue) but stops as \(record.fault.rawValue)")
        } else if record.time < window.start {
            report("fault #\(record.id) stops at \(seconds(record.time)) s, before its start")
        } else {
            windows[index].stop = record.time
        }
    }

    private mutating func report(_ detail: String) {
        problems.append(Violation(kind: .malformed, detail: detail))
    }
}

/// Availability per fault kind: of the operations invoked while a fault of
/// that kind was active, the share that completed `ok`; "no fault" counts the
/// operations invoked while no fault at all was active. An operation invoked
/// under several faults counts once for each of their kinds. Reads and writes
/// of every workload count alike; `fail`, `info` and unfinished operations are
/// unavailable.
enum AvailabilityTally {
    static func rows(_ operations: [Operation], _ timeline: FaultTimeline) -> [AvailabilityRow] {
        var invoked: [FaultKind?: Int] = [:]
        var ok: [FaultKind?: Int] = [:]
        for operation in operations {
            let kinds = Set(timeline.active(at: operation.start).map(\.fault))
            let conditions: [FaultKind?] = kinds.isEmpty ? [nil] : kinds.map { $0 }
            for condition in conditions {
                invoked[condition, default: 0] += 1
                if operation.outcome == .ok { ok[condition, default: 0] += 1 }
            }
        }
        let conditions: [FaultKind?] = [nil] + FaultKind.allCases.map { $0 }
        return conditions.map { AvailabilityRow(fault: $0, invoked: invoked[$0] ?? 0, ok: ok[$0] ?? 0) }
    }
}
