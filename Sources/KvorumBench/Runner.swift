import Foundation
import Histogram
import KvorumCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The store a benchmark runs against.
public enum BenchTarget: Sendable {
    /// Kvorum nodes; connection i talks to node i mod count.
    case kvorum([Endpoint])
    /// A Redis server; with `wait`, every SET is followed by `WAIT 1 1000`.
    case redis(Endpoint, wait: Bool)
    /// An etcd member's JSON gateway; reads serializable or linearizable.
    case etcd(Endpoint, serializable: Bool)

    /// The target's name in reports (a Kvorum run adds how it connected,
    /// `ClientSecurity.label`).
    public var name: String {
        switch self {
        case .kvorum: "kvorum"
        case .redis(_, let wait): wait ? "redis+wait" : "redis"
        case .etcd(_, let serializable): serializable ? "etcd-serializable" : "etcd"
        }
    }
}

/// Everything a benchmark run needs.
public struct BenchConfiguration: Sendable {
    public var target: BenchTarget
    public var workload: Workload
    public var distribution: KeyDistribution
    public var records: Int
    public var valueSize: Int
    /// Connections, each driven by its own thread, one operation at a time.
    public var concurrency: Int
    /// Seconds of measurement, unless `operations` is set.
    public var duration: Double
    /// Operations to measure (after the warm-up), instead of a duration.
    public var operations: Int?
    /// Seconds of unmeasured operations before the measurement.
    public var warmup: Double
    public var r: Int
    public var w: Int
    /// Whether to skip writing the records first.
    public var skipLoad: Bool
    /// The seed of every key, operation and value choice.
    public var seed: UInt64
    /// Seconds a connection waits for an answer.
    public var timeout: Double
    /// How Kvorum connections are made: plain or TLS, with a token or not.
    public var security = ClientSecurity.plain
    /// Which of Kvorum's client protocols the drivers speak.
    public var kvorumProtocol = KvorumProtocol.http

    /// A configuration with YCSB-like defaults for the unnamed settings.
    public init(
        target: BenchTarget, workload: Workload, distribution: KeyDistribution = .uniform, records: Int = 100_000,
        valueSize: Int = 100, concurrency: Int = 16, duration: Double = 10, operations: Int? = nil,
        warmup: Double = 2, r: Int = 2, w: Int = 2, skipLoad: Bool = false, seed: UInt64 = 1, timeout: Double = 10
    ) {
        self.target = target
        self.workload = workload
        self.distribution = distribution
        self.records = records
        self.valueSize = valueSize
        self.concurrency = concurrency
        self.duration = duration
        self.operations = operations
        self.warmup = warmup
        self.r = r
        self.w = w
        self.skipLoad = skipLoad
        self.seed = seed
        self.timeout = timeout
    }
}

/// Runs a benchmark: loads the records, warms up, measures, reports.
public enum BenchRunner {
    /// Runs `configuration`; `progress` (if given) is called about once a
    /// second from another thread with a one-line status.
    public static func run(_ configuration: BenchConfiguration, progress: (@Sendable (String) -> Void)? = nil)
        -> BenchReport
    {
        let contexts = ContextTable(records: configuration.records)
        let makeDriver: @Sendable (Int) -> BenchDriver = { index in
            switch configuration.target {
            case .kvorum(let endpoints) where configuration.kvorumProtocol == .binary:
                KvorumBinaryDriver(
                    endpoint: endpoints[index % endpoints.count], r: configuration.r, w: configuration.w,
                    contexts: contexts, timeout: configuration.timeout, security: configuration.security)
            case .kvorum(let endpoints):
                KvorumDriver(
                    endpoint: endpoints[index % endpoints.count], r: configuration.r, w: configuration.w,
                    contexts: contexts, timeout: configuration.timeout, security: configuration.security)
            case .redis(let endpoint, let wait):
                RedisDriver(endpoint: endpoint, wait: wait, timeout: configuration.timeout)
            case .etcd(let endpoint, let serializable):
                EtcdDriver(endpoint: endpoint, serializable: serializable, timeout: configuration.timeout)
            }
        }
        let isKvorum = if case .kvorum = configuration.target { true } else { false }
        var loadSeconds: Double?
        var loadErrors: [String: Int] = [:]
        var loadTenths: [Double]?
        var primeSeconds: Double?
        if !configuration.skipLoad {
            let started = now()
            (loadErrors, loadTenths) = load(configuration, makeDriver: makeDriver, progress: progress)
            loadSeconds = Double(now() - started) / 1e9
        } else if isKvorum, configuration.workload.mix.contains(where: { $0.operation == .update }) {
            // A Kvorum write without the record's context is a blind write:
            // it becomes a sibling of the stored value instead of replacing it
            // as a Redis SET or an etcd put does. Records loaded by another
            // run are read once, unmeasured, so that updates carry contexts.
            let started = now()
            _ = touchEveryRecord(configuration, makeDriver: makeDriver, progress: progress, phase: "priming") {
                driver, record, _ in try driver.read(record)
            }
            primeSeconds = Double(now() - started) / 1e9
        }
        let shared = Shared()
        let workers = (0..<configuration.concurrency).map {
            Worker(index: $0, configuration: configuration, driver: makeDriver($0), shared: shared)
        }
        let start = now()
        let measureFrom = start + UInt64(configuration.warmup * 1e9)
        let measureUntil = configuration.operations == nil ? measureFrom + UInt64(configuration.duration * 1e9) : .max
        runThreads(workers.count, progress: progress.map { report in { report(shared.status(since: measureFrom)) } }) {
            workers[$0].run(from: measureFrom, until: measureUntil)
        }
        let finished = workers.map(\.lastFinish).max() ?? measureFrom
        let seconds = Double(max(finished, measureFrom) - measureFrom) / 1e9
        var all = LatencySummary.histogram()
        var byOperation: [BenchOperation: Histogram<UInt64>] = [:]
        var errors: [String: Int] = [:]
        for worker in workers {
            for (operation, histogram) in worker.histograms {
                all.add(histogram)
                byOperation[operation, default: LatencySummary.histogram()].add(histogram)
            }
            errors.merge(worker.errors, uniquingKeysWith: +)
        }
        var latency = ["all": LatencySummary(nanoseconds: all)]
        for (operation, histogram) in byOperation {
            latency[operation.rawValue] = LatencySummary(nanoseconds: histogram)
        }
        return BenchReport(
            target: configuration.target.name
                + (isKvorum ? configuration.kvorumProtocol.label + configuration.security.label : ""),
            workload: configuration.workload,
            distribution: configuration.distribution, records: configuration.records,
            valueSize: configuration.valueSize, concurrency: configuration.concurrency,
            r: isKvorum ? configuration.r : nil, w: isKvorum ? configuration.w : nil, seed: configuration.seed,
            loadSeconds: loadSeconds, loadErrors: loadErrors.values.reduce(0, +), loadErrorKinds: loadErrors,
            loadTenths: loadTenths, primeSeconds: primeSeconds,
            warmupSeconds: configuration.warmup, seconds: seconds,
            operations: all.totalCount, throughput: seconds > 0 ? Double(all.totalCount) / seconds : 0,
            latency: latency, errors: errors)
    }

    /// Writes every record once; returns the records that failed, by the kind
    /// of their last failure, and the records per second in each tenth of
    /// the load (`LoadTenths`).
    private static func load(
        _ configuration: BenchConfiguration, makeDriver: @Sendable (Int) -> BenchDriver,
        progress: (@Sendable (String) -> Void)?
    ) -> (errors: [String: Int], tenths: [Double]?) {
        let shared = Shared(tenths: LoadTenths(records: configuration.records, start: now()))
        let errors = touchEveryRecord(
            configuration, makeDriver: makeDriver, progress: progress, phase: "loading", shared: shared
        ) { driver, record, random in
            var value = [UInt8](repeating: 0, count: configuration.valueSize)
            fillValue(&value, using: &random)
            try driver.update(record, value: value)
        }
        return (errors, shared.tenthThroughputs)
    }

    /// Runs `operation` once on every record (connection i takes records i,
    /// i+c, …), retrying each up to three times, counting in `shared`;
    /// returns the records that failed, by the kind of their last failure.
    private static func touchEveryRecord(
        _ configuration: BenchConfiguration, makeDriver: @Sendable (Int) -> BenchDriver,
        progress: (@Sendable (String) -> Void)?, phase: String, shared: Shared = Shared(),
        _ operation: @escaping @Sendable (BenchDriver, Int, inout SplitMix64) throws -> Void
    ) -> [String: Int] {
        let loaders = (0..<configuration.concurrency).map { Loader(driver: makeDriver($0)) }
        runThreads(
            loaders.count,
            progress: progress.map { report in
                { report("\(phase): \(shared.completedCount) of \(configuration.records) records") }
            }
        ) { index in
            var random = SplitMix64(seed: configuration.seed ^ 0x10AD ^ UInt64(index) &* 0x9E37_79B9)
            for record in stride(from: index, to: configuration.records, by: configuration.concurrency) {
                var failure: String?
                for attempt in 0..<3 where attempt == 0 || failure != nil {
                    do {
                        try operation(loaders[index].driver, record, &random)
                        failure = nil
                    } catch {
                        failure = BenchError.kind(of: error)
                    }
                }
                shared.finish(failure: failure)
            }
        }
        return shared.failures
    }

    /// Runs `body(0..<count)` on `count` threads and waits for them,
    /// calling `progress` every second meanwhile.
    private static func runThreads(_ count: Int, progress: (() -> Void)?, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            let thread = Thread {
                body(index)
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        while done.wait(timeout: .now() + 1) == .timedOut { progress?() }
        progress?()
    }

    /// Fills `value` with random lowercase letters (valid UTF-8 for Kvorum).
    static func fillValue(_ value: inout [UInt8], using random: inout SplitMix64) {
        var bits: UInt64 = 0
        for i in value.indices {
            if i % 8 == 0 { bits = random.next() }
            value[i] = UInt8(ascii: "a") + UInt8(truncatingIfNeeded: bits % 26)
            bits >>= 8
        }
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// Counters shared by the threads of one phase.
final class Shared: @unchecked Sendable {
    private let lock = NSLock()
    private var completed = 0
    private var failed = 0
    private var failureKinds: [String: Int] = [:]
    private var measured = 0
    private var tenths: LoadTenths?

    /// Counters for a phase; with `tenths`, it also notes when each tenth
    /// of the phase's records is done.
    init(tenths: LoadTenths? = nil) {
        self.tenths = tenths
    }

    /// Records one finished operation: done, or failed with a kind of error.
    func finish(failure: String?) {
        lock.withLock {
            if let failure {
                failed += 1
                failureKinds[failure, default: 0] += 1
            } else {
                completed += 1
            }
            if tenths != nil { tenths!.finished(completed + failed, at: BenchRunner.now()) }
        }
    }

    /// Records per second in each tenth of the phase (see `LoadTenths.throughputs`).
    var tenthThroughputs: [Double]? { lock.withLock { tenths?.throughputs } }

    /// Claims one of `limit` measured operations; false once all are claimed.
    func claim(limit: Int) -> Bool {
        lock.withLock {
            guard measured < limit else { return false }
            measured += 1
            return true
        }
    }

    var completedCount: Int { lock.withLock { completed } }
    /// The failed operations by kind of error.
    var failures: [String: Int] { lock.withLock { failureKinds } }

    /// The progress line: the phase, and operations and errors so far.
    func status(since measureFrom: UInt64) -> String {
        let (done, errors) = lock.withLock { (completed, failed) }
        let now = BenchRunner.now()
        let phase = now < measureFrom ? "warm-up" : "run \(BenchReport.fixed(Double(now - measureFrom) / 1e9, 0)) s"
        return "\(phase): \(done) ops, \(errors) errors"
    }
}

/// One loading thread's driver. Each is used by its own thread only.
final class Loader: @unchecked Sendable {
    let driver: BenchDriver

    init(driver: BenchDriver) {
        self.driver = driver
    }
}

/// One connection's thread: its driver, random source and histograms. Its
/// state is touched only by its thread until `runThreads` has joined it.
final class Worker: @unchecked Sendable {
    private let configuration: BenchConfiguration
    private let driver: BenchDriver
    private let shared: Shared
    private let chooser: KeyChooser
    private var random: SplitMix64
    /// Latencies (ns) of the measured operations by kind.
    private(set) var histograms: [BenchOperation: Histogram<UInt64>] = [:]
    /// Measured failures by kind.
    private(set) var errors: [String: Int] = [:]
    /// When the last measured operation finished.
    private(set) var lastFinish: UInt64 = 0

    init(index: Int, configuration: BenchConfiguration, driver: BenchDriver, shared: Shared) {
        self.configuration = configuration
        self.driver = driver
        self.shared = shared
        chooser = KeyChooser(records: configuration.records, distribution: configuration.distribution)
        random = SplitMix64(seed: configuration.seed &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
    }

    /// Runs operations until `until` (or until the measured operations are
    /// all claimed), measuring those that start at or after `from`.
    func run(from: UInt64, until: UInt64) {
        var value = [UInt8](repeating: 0, count: configuration.valueSize)
        for operation in Set(configuration.workload.mix.map(\.operation)) {
            histograms[operation] = LatencySummary.histogram()
        }
        while true {
            let started = BenchRunner.now()
            if started >= until { return }
            let measured = started >= from
            if measured, let limit = configuration.operations, !shared.claim(limit: limit) { return }
            let operation = configuration.workload.operation(for: random.nextUnit())
            let record = chooser.next(using: &random)
            do {
                switch operation {
                case .read: try driver.read(record)
                case .update:
                    BenchRunner.fillValue(&value, using: &random)
                    try driver.update(record, value: value)
                case .readModifyWrite:
                    BenchRunner.fillValue(&value, using: &random)
                    try driver.readModifyWrite(record, value: value)
                }
                let finished = BenchRunner.now()
                if measured {
                    histograms[operation]!.record(finished - started)
                    lastFinish = finished
                }
                shared.finish(failure: nil)
            } catch {
                let kind = BenchError.kind(of: error)
                if measured {
                    errors[kind, default: 0] += 1
                    lastFinish = BenchRunner.now()
                }
                shared.finish(failure: kind)
                if case .connect = error as? BenchError { usleep(10_000) }
            }
        }
    }
}
