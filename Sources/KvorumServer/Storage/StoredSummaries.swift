import KvorumCore

/// The anti-entropy summary of every partition (`PartitionSummary`) of an
/// open SQLite store: kept in memory, changed with every record, and written
/// to the `partitions` table when the store closes.
///
/// Writing a partition's row in the record's own commit put a second page
/// into the write-ahead log for every write: 60–80% more bytes written and
/// about 30% more CPU per quorum write than a store without summaries
/// (bench/results/2026-12-01-storage-ab.md). Instead, the first commit
/// after opening marks the table stale (`meta.summaries = 'open'`), and
/// `save` marks it current again with the rows. A store that was not closed
/// (the process was killed or crashed) finds the mark stale and sums the
/// digest column of every record instead, without decoding a record. Riak's
/// Tictac AAE treats its tree caches the same way: saved on a clean stop,
/// rebuilt by a fold after an unclean one.
struct StoredSummaries {
    /// Every partition's summary, by partition.
    private(set) var all: [PartitionSummary]
    /// Partitions whose row may differ from `all`.
    private var dirty: [Bool]
    /// Whether the table is stale as a whole (the summaries were rebuilt).
    private var rebuilt: Bool

    /// Reads the table if the store was closed since it was last written;
    /// else sums the records' digests, calling `progress` with the records
    /// done and the total every `RecordProgress.interval` records. Then marks the
    /// table stale, committed before any record can change.
    init(
        opening connection: SQLiteConnection, partitionCount: Int, progress: (_ done: Int, _ total: Int) -> Void
    ) throws {
        let mark = try connection.execute("SELECT value FROM meta WHERE name = 'summaries'").first
        if mark == Self.saved {
            all = try Self.read(connection, partitionCount: partitionCount)
            rebuilt = false
        } else {
            all = try Self.sum(connection, partitionCount: partitionCount, progress: progress)
            rebuilt = true
        }
        dirty = Array(repeating: false, count: partitionCount)
        try connection.execute(Self.marking("open"))
    }

    /// The summaries of a store just created or converted (`table` holds
    /// them): its open finds them current.
    static let markSaved = marking(saved)

    /// Whether the summaries were summed from the records at open.
    var wereRebuilt: Bool { rebuilt }

    /// One key's digest in `partition` changes from `old` to `new` (nil:
    /// absent).
    mutating func replace(in partition: Int, _ old: UInt64?, with new: UInt64?) {
        all[partition].replace(old, with: new)
        dirty[partition] = true
    }

    /// Writes every changed row and marks the table current, inside the
    /// caller's transaction.
    mutating func save(_ connection: SQLiteConnection) throws {
        let upsert = try connection.prepare(
            """
            INSERT INTO partitions (part, hash, keys) VALUES (?1, ?2, ?3)
            ON CONFLICT (part) DO UPDATE SET hash = excluded.hash, keys = excluded.keys
            """)
        let delete = try connection.prepare("DELETE FROM partitions WHERE part = ?1")
        if rebuilt { try connection.execute("DELETE FROM partitions") }
        for summary in all where rebuilt || dirty[summary.partition] {
            if summary.isEmpty {
                if !rebuilt { try delete.run([.integer(Int64(summary.partition))]) }
            } else {
                try upsert.run([
                    .integer(Int64(summary.partition)), .integer(Int64(bitPattern: summary.hash)),
                    .integer(Int64(summary.keys)),
                ])
            }
        }
        try connection.execute(Self.markSaved)
        dirty = Array(repeating: false, count: dirty.count)
        rebuilt = false
    }

    private static let saved = "saved"

    private static func marking(_ value: String) -> String {
        """
        INSERT INTO meta (name, value) VALUES ('summaries', '\(value)')
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
        """
    }

    /// The summaries as the table holds them.
    private static func read(_ connection: SQLiteConnection, partitionCount: Int) throws -> [PartitionSummary] {
        var summaries = (0..<partitionCount).map { PartitionSummary(partition: $0) }
        let select = try connection.prepare("SELECT part, hash, keys FROM partitions ORDER BY part")
        try select.run { row in
            let partition = Int(row.int64(0))
            let keys = Int(row.int64(2))
            guard partition >= 0, partition < partitionCount, keys > 0 else {
                throw SQLiteStorageError("the summary of partition \(partition) is damaged")
            }
            summaries[partition] = PartitionSummary(
                partition: partition, hash: UInt64(bitPattern: row.int64(1)), keys: keys)
        }
        return summaries
    }

    /// The summaries summed from the partition and digest of every record.
    private static func sum(
        _ connection: SQLiteConnection, partitionCount: Int, progress: (_ done: Int, _ total: Int) -> Void
    ) throws -> [PartitionSummary] {
        try withoutActuallyEscaping(progress) { progress in
            var counter = try RecordProgress(connection, report: progress)
            var summaries = (0..<partitionCount).map { PartitionSummary(partition: $0) }
            let select = try connection.prepare("SELECT part, digest FROM records")
            try select.run { row in
                let partition = Int(row.int64(0))
                guard partition >= 0, partition < partitionCount else {
                    throw SQLiteStorageError("a record names partition \(partition), off a ring of \(partitionCount)")
                }
                summaries[partition].replace(nil, with: UInt64(bitPattern: row.int64(1)))
                counter.step()
            }
            counter.finish()
            return summaries
        }
    }
}
