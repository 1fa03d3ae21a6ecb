/// The pace of a load, tenth by tenth: when the k-th tenth of the records
/// was done (k = 1…10), so that a report can say whether writing slowed as
/// the store grew (the first tenth writes into an empty store, the last into
/// one nine tenths full).
struct LoadTenths {
    /// Records the load writes.
    let records: Int
    /// When the load started (monotonic nanoseconds).
    let start: UInt64
    /// When each tenth finished, in order; at most ten.
    private(set) var marks: [UInt64] = []

    init(records: Int, start: UInt64) {
        self.records = records
        self.start = start
    }

    /// The number of records done when tenth `k` (1…10) is complete.
    static func boundary(_ k: Int, of records: Int) -> Int { records * k / 10 }

    /// Notes that `done` records (written or failed) are finished at `time`;
    /// calls must come in order of `done`.
    mutating func finished(_ done: Int, at time: UInt64) {
        while marks.count < 10, done >= Self.boundary(marks.count + 1, of: records) {
            marks.append(time)
        }
    }

    /// Records per second within each tenth, once all ten are done; nil
    /// before, or with fewer than ten records (a tenth would be empty).
    var throughputs: [Double]? {
        guard records >= 10, marks.count == 10 else { return nil }
        return (1...10).map { k in
            let count = Self.boundary(k, of: records) - Self.boundary(k - 1, of: records)
            let from = k == 1 ? start : marks[k - 2]
            let seconds = Double(marks[k - 1] - min(from, marks[k - 1])) / 1e9
            return Double(count) / max(seconds, 1e-9)
        }
    }
}
