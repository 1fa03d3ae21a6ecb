import Foundation
import Histogram

/// Latency percentiles of one operation, in milliseconds.
public struct LatencySummary: Codable, Sendable {
    /// Operations recorded.
    public var count: UInt64
    public var mean: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    /// The summary of a histogram of nanoseconds.
    public init(nanoseconds histogram: Histogram<UInt64>) {
        func ms(_ value: UInt64) -> Double { Double(value) / 1e6 }
        count = histogram.totalCount
        mean = histogram.totalCount == 0 ? 0 : histogram.mean / 1e6
        p50 = ms(histogram.valueAtPercentile(50))
        p95 = ms(histogram.valueAtPercentile(95))
        p99 = ms(histogram.valueAtPercentile(99))
        p999 = ms(histogram.valueAtPercentile(99.9))
        max = ms(histogram.max)
    }

    /// An empty histogram of latencies in nanoseconds, up to a minute, to
    /// three significant digits.
    public static func histogram() -> Histogram<UInt64> {
        Histogram(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }
}

/// What a benchmark run measured (the `--json` output).
public struct BenchReport: Codable, Sendable {
    /// `kvorum`, `redis`, `redis+wait`, `etcd` or `etcd-serializable`.
    public var target: String
    public var workload: Workload
    public var distribution: KeyDistribution
    public var records: Int
    public var valueSize: Int
    public var concurrency: Int
    /// Read and write quorums (Kvorum only).
    public var r: Int?
    public var w: Int?
    public var seed: UInt64
    /// Seconds the load phase took, if it ran.
    public var loadSeconds: Double?
    /// Records the load could not write (after three tries each).
    public var loadErrors: Int
    /// Those records by the kind of their last error (absent in reports of
    /// older builds).
    public var loadErrorKinds: [String: Int]?
    /// Records per second in each tenth of the load, first to last (absent
    /// without a load, or with fewer than ten records).
    public var loadTenths: [Double]?
    /// Seconds spent reading every record first to learn its causal context
    /// (Kvorum without a load phase, see `BenchRunner`), if that ran.
    public var primeSeconds: Double?
    public var warmupSeconds: Double
    /// Seconds of the measured phase.
    public var seconds: Double
    /// Operations completed (successfully) in the measured phase.
    public var operations: UInt64
    /// Operations per second in the measured phase.
    public var throughput: Double
    /// Latency of every operation, then of each kind (`read`, `update`, `read-modify-write`).
    public var latency: [String: LatencySummary]
    /// Failed operations by kind of failure.
    public var errors: [String: Int]

    /// The report as aligned text lines.
    public var text: String {
        var lines: [String] = []
        let quorums = r.map { ", r=\($0) w=\(w ?? 0)" } ?? ""
        lines.append(
            "\(target): workload \(workload.rawValue), \(distribution.rawValue) keys, \(records) records, "
                + "\(valueSize)-byte values, \(concurrency) connections\(quorums), seed \(seed)")
        if let loadSeconds {
            let pace = Self.fixed(Double(records) / max(loadSeconds, 1e-9), 0)
            lines.append(
                "load: \(records) records in \(Self.fixed(loadSeconds, 1)) s "
                    + "(\(pace) ops/s\(tenthsText)), \(loadErrors) errors")
        }
        if let primeSeconds {
            lines.append("prime: read \(records) records in \(Self.fixed(primeSeconds, 1)) s to learn their contexts")
        }
        let errorCount = errors.values.reduce(0, +)
        lines.append(
            "run: \(Self.fixed(seconds, 1)) s after \(Self.fixed(warmupSeconds, 1)) s warm-up: \(operations) ops, "
                + "\(Self.fixed(throughput, 0)) ops/s, \(errorCount) errors")
        lines.append(
            "  "
                + ["operation", "count", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms"].enumerated().map {
                    $0.offset == 0
                        ? $0.element.padding(toLength: 18, withPad: " ", startingAt: 0) : Self.right($0.element)
                }.joined())
        for name in ["all"] + BenchOperation.allCases.map(\.rawValue) {
            guard let summary = latency[name], summary.count > 0 else { continue }
            let cells = [
                String(summary.count), Self.fixed(summary.p50, 3), Self.fixed(summary.p95, 3),
                Self.fixed(summary.p99, 3), Self.fixed(summary.p999, 3), Self.fixed(summary.max, 3),
            ]
            lines.append(
                "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0) + cells.map(Self.right).joined())
        }
        for (kind, count) in (loadErrorKinds ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append("  load error \(kind): \(count)")
        }
        for (kind, count) in errors.sorted(by: { $0.key < $1.key }) { lines.append("  error \(kind): \(count)") }
        return lines.joined(separator: "\n")
    }

    /// The load's pace in its first and last tenth, if known.
    private var tenthsText: String {
        guard let first = loadTenths?.first, let last = loadTenths?.last else { return "" }
        return "; first tenth \(Self.fixed(first, 0)), last tenth \(Self.fixed(last, 0)) ops/s"
    }

    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    private static func right(_ cell: String) -> String {
        String(repeating: " ", count: max(1, 11 - cell.count)) + cell
    }
}
