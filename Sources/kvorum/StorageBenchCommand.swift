import ArgumentParser
import Foundation
import KvorumCore
import KvorumServer
import KvorumSimulation

/// `kvorum storage-bench`: one node's store alone, without the network or
/// the other replicas. It fills a fresh store step by step and, at each
/// size, overwrites random existing records the way a replica does (read the
/// record, write the new one, commit in groups), measuring the process's
/// CPU time, the bytes it wrote and read per write. It tells how a write's
/// cost grows with the data and what the caches change.
struct StorageBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage-bench",
        abstract: "Measure one node's store alone: the cost of an overwrite as the records grow.",
        discussion: """
            Prints one row per size: records, overwrites per second, CPU µs (user + system, every \
            thread of this process), bytes written (/proc/self/io write_bytes: the log and the \
            checkpoints) and bytes read through read(2)/pread(2) (rchar: SQLite page-cache misses) \
            per overwrite. Build in release: swift build -c release --product kvorum.
            """
    )

    @Option(help: "Record counts to measure at, ascending, comma-separated.")
    var sizes = "100000,300000,1000000"

    @Option(help: "Overwrites measured at each size.")
    var writes = 20_000

    @Option(help: "Overwrites per commit (a replica's group commit under load).")
    var group = 4

    @Option(help: "SQLite's page cache, MiB.")
    var pageCacheMib = SQLiteStorage.defaultPageCacheMiB

    @Option(help: "Decoded records kept in memory.")
    var cachedRecords = SQLiteStorage.defaultCachedRecords

    @Option(help: "Bytes per value.")
    var valueBytes = 100

    @Option(
        help:
            "Directory of the store (must not exist; removed at the end). Default: a new one under the temporary directory."
    )
    var directory: String?

    private var storeDirectory: String { directory ?? NSTemporaryDirectory() + "kvorum-storage-bench-\(getpid())" }

    @Option(help: "Seed of the keys overwritten.")
    var seed: UInt64 = 1

    private var steps: [Int] { sizes.split(separator: ",").compactMap { Int($0) } }

    func validate() throws {
        let steps = steps
        guard !steps.isEmpty, steps.count == sizes.split(separator: ",").count, steps.allSatisfy({ $0 > 0 }),
            steps == steps.sorted()
        else { throw ValidationError("--sizes takes positive record counts in ascending order, e.g. 100000,1000000") }
        guard writes > 0, group > 0, pageCacheMib > 0, cachedRecords >= 0, valueBytes > 0 else {
            throw ValidationError("--writes, --group, --page-cache-mib and --value-bytes must be positive")
        }
        guard !FileManager.default.fileExists(atPath: storeDirectory) else {
            throw ValidationError("\(storeDirectory) exists; give a directory that does not")
        }
    }

    func run() throws {
        let directory = storeDirectory
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = SeededRandom(seed: seed)
        var filled = 0
        print("records  writes/s  cpu_us/write  written_bytes/write  read_bytes/write")
        for step in steps {
            // The store is closed after the records are added, which copies
            // its log into the database: the measurement does not pay for
            // the checkpoints of the records just added.
            let store = try SQLiteStorage(
                directory: directory, cachedRecords: cachedRecords, pageCacheMiB: pageCacheMib)
            RecordWriter(store: store, valueBytes: valueBytes).fill(from: filled, to: step)
            filled = step
            store.close()
            let reopened = try SQLiteStorage(
                directory: directory, cachedRecords: cachedRecords, pageCacheMiB: pageCacheMib)
            defer { reopened.close() }
            let measured = RecordWriter(store: reopened, valueBytes: valueBytes)
            // The first round warms the caches; the second is measured.
            _ = overwrite(measured, records: step, random: &random)
            let (cost, seconds) = overwrite(measured, records: step, random: &random)
            let perWrite = { (total: Int) in String(format: "%.0f", Double(total) / Double(writes)) }
            print(
                [
                    "\(step)", String(format: "%.0f", Double(writes) / seconds), perWrite(cost.cpuMicroseconds),
                    perWrite(cost.writtenBytes), perWrite(cost.readBytes),
                ].joined(separator: "  "))
        }
    }

    /// Overwrites `writes` random records of the first `records`, `group` to
    /// a commit; returns what that cost and how long it took.
    private func overwrite(_ writer: RecordWriter, records: Int, random: inout SeededRandom) -> (ProcessCost, Double) {
        let before = ProcessCost.now()
        let elapsed = ContinuousClock().measure {
            for done in 0..<writes {
                if done % group == 0 { writer.store.beginBatch() }
                writer.overwrite(Int(random.next() % UInt64(records)))
                if done % group == group - 1 || done == writes - 1 { writer.store.commitBatch() }
            }
        }
        return (ProcessCost.now() - before, elapsed.inSeconds)
    }
}

/// Writes the bench's records: `key-N`, one version each, overwritten with
/// the next counter of the bench's actor.
private struct RecordWriter {
    let store: SQLiteStorage
    let value: String

    init(store: SQLiteStorage, valueBytes: Int) {
        self.store = store
        value = String(repeating: "v", count: valueBytes)
    }

    /// Adds records `first..<end`, 1,000 to a commit.
    func fill(from first: Int, to end: Int) {
        for start in stride(from: first, to: end, by: 1000) {
            store.beginBatch()
            for index in start..<min(end, start + 1000) {
                write(Key("key-\(index)"), counter: 1, past: VersionVector())
            }
            store.commitBatch()
        }
    }

    /// Reads record `index` and writes its next version over it.
    func overwrite(_ index: Int) {
        let key = Key("key-\(index)")
        guard let old = store.record(for: key)?.siblings.versions.first?.dot else {
            preconditionFailure("record \(key.text) is missing")
        }
        write(key, counter: old.counter + 1, past: VersionVector([old.actor: old.counter]))
    }

    private func write(_ key: Key, counter: UInt64, past: VersionVector) {
        let siblings = SiblingSet([Version(dot: Dot(actor: "bench", counter: counter), past: past, value: value)])
        store.setRecord(
            StoredRecord(siblings: siblings), for: key,
            at: TreePlace(key: key, siblings: siblings, partitionCount: store.partitionCount))
    }
}

/// What this process has spent so far: CPU time of every thread, and the
/// bytes of its I/O (/proc/self/io).
private struct ProcessCost {
    var cpuMicroseconds: Int
    var writtenBytes: Int
    var readBytes: Int

    static func now() -> ProcessCost {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu =
            (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1_000_000 + Int(usage.ru_utime.tv_usec)
            + Int(usage.ru_stime.tv_usec)
        let io = (try? String(contentsOfFile: "/proc/self/io", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            io.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) } ?? 0
        }
        return ProcessCost(cpuMicroseconds: cpu, writtenBytes: field("write_bytes"), readBytes: field("rchar"))
    }

    static func - (after: ProcessCost, before: ProcessCost) -> ProcessCost {
        ProcessCost(
            cpuMicroseconds: after.cpuMicroseconds - before.cpuMicroseconds,
            writtenBytes: after.writtenBytes - before.writtenBytes, readBytes: after.readBytes - before.readBytes)
    }
}
