/// One operation of a workload.
public enum BenchOperation: String, CaseIterable, Sendable {
    /// Read one record.
    case read
    /// Overwrite one record with a new value.
    case update
    /// Read a record, then write a new value with what the read returned (for
    /// Kvorum, the read's causal context).
    case readModifyWrite = "read-modify-write"
}

/// The YCSB core workloads the benchmark runs, and a write-only one.
public enum Workload: String, CaseIterable, Sendable, Codable {
    /// Update heavy: 50% reads, 50% updates.
    case a = "A"
    /// Read mostly: 95% reads, 5% updates.
    case b = "B"
    /// Read only.
    case c = "C"
    /// Read-modify-write: 50% reads, 50% read-modify-writes.
    case f = "F"
    /// Write only: 100% updates.
    case w = "W"

    /// The share of each operation, summing to 1.
    public var mix: [(operation: BenchOperation, share: Double)] {
        switch self {
        case .a: [(.read, 0.5), (.update, 0.5)]
        case .b: [(.read, 0.95), (.update, 0.05)]
        case .c: [(.read, 1)]
        case .f: [(.read, 0.5), (.readModifyWrite, 0.5)]
        case .w: [(.update, 1)]
        }
    }

    /// The operation for a uniform draw `unit` in [0, 1).
    public func operation(for unit: Double) -> BenchOperation {
        var threshold = 0.0
        for (operation, share) in mix {
            threshold += share
            if unit < threshold { return operation }
        }
        return mix[mix.count - 1].operation
    }
}
