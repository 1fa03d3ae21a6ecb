import CSQLite
import Foundation
import KvorumCore

/// The durable store of a server node: one SQLite database, `kvorum.sqlite`,
/// in the node's data directory, in WAL mode, on the system's libsqlite3.
///
/// It keeps what `MemoryStorage` keeps: every record with all its siblings and
/// causal metadata and its place in the anti-entropy tree (`records`), the
/// summary of every partition of that tree (`partitions`, written when the
/// store closes: `StoredSummaries`), the hint queue (`hints`), the membership
/// view and the epoch counter (`meta`). Every mutating call is committed
/// before it returns, with the guarantee chosen by `Durability`, except
/// inside a batch (`beginBatch()`), whose changes are committed together by
/// `commitBatch()`.
///
/// - Keys are byte strings: two keys are the same key only when their UTF-8
///   bytes are equal, and `keys()` and `hints()` are in byte-wise order (SQLite's
///   BINARY collation on UTF-8 text, the order of `byteOrder`). Keys that differ
///   only in Unicode normalisation (NFC "é" and NFD "e\u{301}") are two keys
///   here, as they are to `Key` and so to the rest of the node.
/// - Confinement: a store is used from one thread at a time, like the node it
///   serves. The connection is opened in SQLite's multi-thread mode and takes
///   no mutex of its own.
/// - One process: the store holds an exclusive lock on `kvorum.lock` beside
///   the database for as long as it is open (`StoreLock`), so a second
///   process (another node pointed at the same directory by mistake) cannot
///   open it.
/// - Checkpoints: a `WALCheckpointer` copies the write-ahead log into the
///   database on a thread and connection of its own, so the node's thread
///   does not stall in a checkpoint. Between its rounds the store's
///   connection holds the database alone (SQLite's exclusive locking mode),
///   and lets it go while one runs (SQLite's shared-memory WAL index lets
///   the two connections share the log).
/// - Errors: `Storage` methods cannot throw. A failure to read or write the
///   database (disk full, I/O error, corruption) stops the process with
///   `fatalError` and SQLite's message: a node must never acknowledge a write
///   it could not store, nor answer from a store it cannot read. Restarted,
///   it recovers from the last committed state.
/// - Exclusivity: `Storage` is used from its node's single thread of
///   control, and each access to this store's state is read or changed in
///   place, ending before any call that could come back into the store (a
///   scan's visitor included), so that state skips the runtime's
///   exclusivity check (`@exclusivity(unchecked)`), as `MemoryStorage` does.
public final class SQLiteStorage: Storage, GroupCommitStorage {
    /// How much a write survives once the call returns. Both modes use SQLite's
    /// write-ahead log; they differ in whether a commit waits for `fsync`.
    public enum Durability: String, Sendable, CaseIterable {
        /// WAL with `synchronous=NORMAL`: a returned write is in the operating
        /// system's page cache. It survives a crash of the process (`kill -9`);
        /// the last writes may be lost on power loss or an OS crash.
        case process
        /// WAL with `synchronous=FULL`: a returned write has been `fsync`ed to
        /// the log, so it also survives power loss and OS crashes (as far as
        /// the disk honours `fsync`).
        case fsync

        /// SQLite's `synchronous` level for the mode.
        var synchronous: String {
            switch self {
            case .process: "NORMAL"
            case .fsync: "FULL"
            }
        }
    }

    /// The schema this build reads and writes, kept in `PRAGMA user_version`.
    /// Version 1 kept sibling sets as JSON in a rowid table; version 2 keeps
    /// them in the binary peer encoding (`WireCodec.encode(_: SiblingSet)`),
    /// several times cheaper to read and write, in a table clustered on the
    /// key (`WITHOUT ROWID`: one B-tree search per lookup instead of two).
    /// Version 3 adds each record's partition, anti-entropy digest and
    /// whether it is deleted, an index of each partition's keys, one of the
    /// deleted keys, and a summary per partition (`PartitionSummary`), saved
    /// when the store closes: a node opens a closed store and restores its
    /// hash tree without reading a record. Older stores are converted on
    /// open, reporting their progress.
    static let schemaVersion = 3
    /// Records kept decoded in memory unless the store is opened with another
    /// count: at a few hundred bytes each, a few tens of MiB.
    public static let defaultCachedRecords = 100_000
    /// SQLite's page cache per store, in MiB (`PRAGMA cache_size`; SQLite's
    /// own default is 2 MiB). It holds the inner pages of the records'
    /// B-trees up to several million records; the leaves of a store larger
    /// than memory are read from the OS page cache. A larger cache costs
    /// more than it saves: SQLite walks its page cache at commit, so a
    /// 64 MiB cache made an overwrite at 3 M records cost twice the CPU of
    /// an 8 MiB one (`kvorum storage-bench`, bench/README.md).
    public static let defaultPageCacheMiB = 8
    /// What a long open of the store is doing, for its `progress` reports.
    public enum OpeningWork: Sendable {
        /// Converting every record of an older schema, or of a store kept
        /// for another partition count.
        case converting
        /// Summing every record's digest into the partition summaries: the
        /// store was not closed (the process died), so its saved summaries
        /// may be stale.
        case summing
    }

    /// Epochs are reserved durably this many at a time (see `nextEpoch()`).
    static let epochBlock: UInt64 = 1024

    /// The database file.
    public let path: String
    /// The durability every mutating call gets.
    public let durability: Durability

    private let connection: SQLiteConnection
    private let lock: StoreLock
    private let checkpointer: WALCheckpointer
    /// A change of locking mode asked for by the last commit, not yet made;
    /// and how many `perform` calls are running (a scan's visitor may call
    /// back into the store), so that it is made only by the outermost.
    @exclusivity(unchecked) private var lockStep = CommitStep.nothing
    @exclusivity(unchecked) private var performing = 0
    /// `nil` once closed.
    @exclusivity(unchecked) private var statements: Statements?
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()
    /// The node's identity (`NodeConfig.identity`): made at random when the
    /// store is created, and kept with the data it belongs to.
    public let identity: UInt64
    /// The number of partitions of the ring the places were computed for.
    public let partitionCount: Int
    /// The summary of every partition: kept in memory, written at close.
    @exclusivity(unchecked) private var summaries: StoredSummaries
    @exclusivity(unchecked) private var cachedRecordCount: Int
    @exclusivity(unchecked) private var cache: RecordCache
    /// The last epoch handed out, and the highest one durably reserved.
    private var lastEpoch: UInt64
    private var reservedEpoch: UInt64
    /// Whether a group commit is open (`beginBatch()`).
    @exclusivity(unchecked) public private(set) var inBatch = false
    /// Whether the open batch has begun its transaction: only at its first
    /// change, so a batch of reads alone takes no write lock and commits nothing.
    @exclusivity(unchecked) private var batchTransaction = false

    /// Opens the store in `directory`, creating the directory and an empty
    /// store as needed.
    ///
    /// - Throws: `SQLiteStorageError` when the directory cannot be created, the
    ///   file is not a readable SQLite database (corrupt, or something else),
    ///   or it holds a schema version this build does not know (a newer kvorum).
    /// `cachedRecords` decoded records are kept in memory (least recently used
    /// evicted first; 0 keeps none), so repeated reads skip SQLite. If another
    /// process has the store open, opening waits up to `lockTimeout` seconds
    /// for it to close the store, then fails.
    ///
    /// Each record's place in the anti-entropy tree is computed for a ring of
    /// `partitionCount` partitions (`NodeConfig.partitionCount`). Opening a
    /// store kept for another count, or of an older schema, converts every
    /// record first, calling `progress` with `.converting`, the records done
    /// and the total every 100,000 records. Opening a store that was not
    /// closed (its process died) sums every record's digest column into the
    /// partition summaries (`StoredSummaries`), reporting `.summing`. Any
    /// other open reads no record.
    ///
    /// `checkpoints` says when the write-ahead log is copied into the
    /// database (see `WALCheckpointer`).
    public init(
        directory: String, durability: Durability = .process, cachedRecords: Int = defaultCachedRecords,
        lockTimeout: Double = 5, partitionCount: Int = NodeConfig.defaultPartitionCount,
        checkpoints: CheckpointPolicy = CheckpointPolicy(), pageCacheMiB: Int = defaultPageCacheMiB,
        progress: (_ work: OpeningWork, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) throws {
        precondition(partitionCount > 0, "a ring has at least one partition")
        precondition(pageCacheMiB > 0, "SQLite's page cache needs at least 1 MiB")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SQLiteStorageError("cannot create the data directory \(directory): \(error)")
        }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("kvorum.sqlite").path
        let lockPath = URL(fileURLWithPath: directory).appendingPathComponent("kvorum.lock").path
        let lock = try Self.lock(lockPath, store: path, timeout: lockTimeout)
        let connection = try SQLiteConnection(path: path)
        do {
            connection.setBusyTimeout(milliseconds: Int32(max(0, min(lockTimeout, 3600)) * 1000))
            try Self.configure(connection, durability: durability, pageCacheMiB: pageCacheMiB)
            try withoutActuallyEscaping(progress) { progress in
                try Self.migrate(
                    connection, path: path,
                    conversion: PlaceConversion(partitionCount: partitionCount) { progress(.converting, $0, $1) })
            }
            guard
                let epoch = try connection.execute("SELECT value FROM meta WHERE name = 'epoch'").first
                    .flatMap({ UInt64($0) })
            else { throw SQLiteStorageError("\(path) has no epoch counter: the store is damaged") }
            summaries = try StoredSummaries(opening: connection, partitionCount: partitionCount) {
                progress(.summing, $0, $1)
            }
            cachedRecordCount = summaries.all.reduce(0) { $0 + $1.keys }
            lastEpoch = epoch
            identity = try Self.identity(of: connection)
            statements = try Statements(connection)
            checkpointer = WALCheckpointer(
                path: path, synchronous: durability.synchronous, policy: checkpoints.validated())
        } catch let error as SQLiteStorageError where error.code == SQLITE_NOTADB || error.code == SQLITE_CORRUPT {
            connection.close()
            throw SQLiteStorageError(
                code: error.code,
                "\(path) is corrupt or not an SQLite database (\(error)); "
                    + "move it aside to start this node with an empty store")
        } catch let error as SQLiteStorageError where error.code == SQLITE_BUSY {
            connection.close()
            throw SQLiteStorageError(
                code: error.code,
                "\(path) is in use by another process (\(error)); stop it first, or give this node another directory")
        } catch {
            connection.close()
            throw error
        }
        self.connection = connection
        self.lock = lock
        self.path = path
        self.durability = durability
        self.partitionCount = partitionCount
        cache = RecordCache(capacity: max(0, cachedRecords))
        reservedEpoch = lastEpoch
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        hookCommits()
    }

    /// Starts the checkpointer and hands it every commit's log length.
    private func hookCommits() {
        checkpointer.start()
        connection.onCommit { [unowned self] logFrames in checkpointIfDue(logFrames: logFrames) }
    }

    /// Takes the directory's lock, waiting up to `timeout` seconds for
    /// another process to let it go.
    private static func lock(_ lockPath: String, store path: String, timeout: Double) throws -> StoreLock {
        do {
            return try StoreLock(path: lockPath, timeout: max(0, min(timeout, 3600)))
        } catch let error as SQLiteStorageError where error.code == SQLITE_BUSY {
            throw SQLiteStorageError(
                code: error.code,
                "\(path) is in use by another process (\(error)); stop it first, or give this node another directory")
        }
    }

    /// After a commit (inside SQLite's WAL hook): checkpoints on this thread
    /// when the checkpointer says the log should start over now; a change of
    /// locking mode waits until the statement has finished (`perform`).
    private func checkpointIfDue(logFrames: Int) {
        let step = checkpointer.committed(logFrames: logFrames)
        switch step {
        case .nothing: return
        case .checkpoint:
            do {
                checkpointer.finished(with: try connection.checkpoint())
            } catch {
                fatalError("SQLiteStorage (\(path)): cannot checkpoint the write-ahead log: \(error)")
            }
        case .holdTheLog, .shareTheLog: lockStep = step
        }
    }

    /// Holds the database alone, or lets it go for a checkpoint round, as the
    /// checkpointer asked at the last commit. Runs outside any transaction
    /// and statement.
    private func changeLocking(_ step: CommitStep) throws(SQLiteStorageError) {
        switch step {
        case .nothing, .checkpoint: return
        case .holdTheLog:
            // Taken at the next write, and held from then on.
            try connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        case .shareTheLog:
            // Let go at the end of a write transaction: an empty one.
            try connection.execute("PRAGMA locking_mode = NORMAL; BEGIN IMMEDIATE; COMMIT")
            checkpointer.logShared()
        }
    }

    deinit { close() }

    /// The checkpoints run so far (see `WALCheckpointer`).
    public var checkpointCounts: CheckpointCounts { checkpointer.current }

    /// Saves the partition summaries, checkpoints the write-ahead log into
    /// the database file and closes the store; idempotent. Not needed for
    /// durability (every write is already committed), but a store that was
    /// not closed sums its records' digests at the next open. Any use after
    /// `close()` is a programming error and stops the process.
    public func close() {
        guard statements != nil else { return }
        // The hook holds this store unowned, and close() also runs in deinit.
        connection.removeCommitHook()
        checkpointer.stop()
        commitBatch()
        statements = nil
        saveSummaries()
        // A checkpoint that fails is harmless: the log stays and is replayed
        // by the next open.
        _ = try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        lock.release()
    }

    /// Writes the partition summaries at close. Should it fail, the table
    /// stays marked stale and the next open sums the records' digests.
    private func saveSummaries() {
        do {
            try connection.execute("BEGIN IMMEDIATE")
            try summaries.save(connection)
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
        }
    }

    // MARK: Records

    public func record(for key: Key) -> StoredRecord? {
        if let cached = cache.record(for: key) { return cached.record }
        let found = perform("read record") { s in
            var found: (StoredRecord, UInt64)?
            try s.selectRecord.run([.text(key.text)]) { row in
                let siblings = try WireCodec.decodeSiblings(row.bytes(0))
                found = (
                    StoredRecord(siblings: siblings, ownActor: row.isNull(1) ? nil : row.text(1)),
                    UInt64(bitPattern: row.int64(2))
                )
            }
            return found
        }
        guard let (record, digest) = found else { return nil }
        cache.set(record, digest: digest, for: key)
        return record
    }

    /// An overwrite (the common case) updates the row in place; the row's
    /// partition never changes, so the partition index is written only when
    /// a key is added or removed.
    @discardableResult
    public func setRecord(_ record: StoredRecord, encoded: [UInt8], for key: Key, at place: TreePlace) -> UInt64? {
        precondition(
            place.partition >= 0 && place.partition < partitionCount, "partition \(place.partition) is off the ring")
        assert(encoded == WireCodec.encode(record.siblings), "the encoding given is not the record's")
        let old = digest(of: key)
        change("write record") { s in
            let deleted: Int64 = record.siblings.isDeleted ? 1 : 0
            let values: [SQLiteValue] = [
                .text(key.text), .blob(encoded), record.ownActor.map { .text($0) } ?? .null,
                .integer(Int64(bitPattern: place.digest)), .integer(deleted),
            ]
            if old != nil {
                try s.updateRecord.run(values)
            } else {
                try s.insertRecord.run(values + [.integer(Int64(place.partition))])
                cachedRecordCount += 1
            }
            summaries.replace(in: place.partition, old, with: place.digest)
        }
        cache.set(record, digest: place.digest, for: key)
        return old
    }

    @discardableResult
    public func removeRecord(for key: Key) -> TreePlace? {
        change("remove record") { s in
            cache.remove(key)
            var removed: TreePlace?
            try s.deleteRecord.run([.text(key.text)]) { row in
                removed = TreePlace(partition: Int(row.int64(0)), digest: UInt64(bitPattern: row.int64(1)))
            }
            guard let removed else { return nil }
            cachedRecordCount -= 1
            summaries.replace(in: removed.partition, removed.digest, with: nil)
            return removed
        }
    }

    public func digest(of key: Key) -> UInt64? {
        if let cached = cache.record(for: key) { return cached.digest }
        return perform("read digest") { s in
            var digest: UInt64?
            try s.selectDigest.run([.text(key.text)]) { digest = UInt64(bitPattern: $0.int64(0)) }
            return digest
        }
    }

    /// Reads the partition index, and each row's digest beside it.
    public func digests(inPartition partition: Int) -> [KeyDigest] {
        perform("read the digests of a partition") { s in
            var digests: [KeyDigest] = []
            try s.selectPartitionDigests.run([.integer(Int64(partition))]) { row in
                digests.append(KeyDigest(key: Key(row.text(0)), digest: UInt64(bitPattern: row.int64(1))))
            }
            return digests
        }
    }

    /// Kept in memory: read (or summed) once at open, then changed with
    /// every record.
    public func partitionSummaries() -> [PartitionSummary] {
        summaries.all.filter { !$0.isEmpty }
    }

    /// Reads the partial index of deleted keys only.
    public func deletedKeys() -> [Key] {
        perform("list deleted keys") { s in
            var keys: [Key] = []
            try s.selectDeletedKeys.run { keys.append(Key($0.text(0))) }
            return keys
        }
    }

    /// Every stored key, in byte-wise order (`ORDER BY` under BINARY collation).
    public func keys() -> [Key] {
        perform("list keys") { s in
            var keys: [Key] = []
            try s.selectKeys.run { keys.append(Key($0.text(0))) }
            return keys
        }
    }

    /// A range read on the primary key: the scan starts at the prefix or
    /// after the cursor, whichever is later, and stops at the first key
    /// without the prefix (keys with a prefix are contiguous in byte order),
    /// so it reads the rows it visits and no others. Records are decoded
    /// from the rows, only for keys `include` lets through, and neither taken
    /// from nor put in the cache.
    public func scanRecords(
        prefix: Key, after: Key?, where include: (Key) -> Bool, _ visit: (Key, StoredRecord) -> Bool
    ) {
        let query = KeyQuery(prefix: prefix, after: after)
        let (statement, bound): (KeyPath<Statements, SQLiteStatement>, Key) =
            if let after, after >= prefix { (\.selectRecordsAfter, after) } else { (\.selectRecordsFrom, prefix) }
        perform("scan records") { s in
            try s[keyPath: statement].scan([.text(bound.text)]) { row in
                let key = Key(row.text(0))
                guard query.matchesPrefix(key) else { return false }
                guard include(key) else { return true }
                let siblings = try WireCodec.decodeSiblings(row.bytes(1))
                return visit(key, StoredRecord(siblings: siblings, ownActor: row.isNull(2) ? nil : row.text(2)))
            }
        }
    }

    /// Kept in memory: counted once at open, then adjusted by every change.
    public var recordCount: Int { cachedRecordCount }

    /// The store's size on disk: the database file and its write-ahead log.
    public var bytesOnDisk: Int {
        [path, path + "-wal"].reduce(0) { total, file in
            var info = stat()
            return total + (stat(file, &info) == 0 ? Int(info.st_size) : 0)
        }
    }

    // MARK: Hints

    /// Every pending hint, by target then key, both in byte-wise order.
    public func hints() -> [Hint] {
        perform("list hints") { s in
            var hints: [Hint] = []
            try s.selectHints.run { row in
                hints.append(
                    Hint(target: row.text(0), key: Key(row.text(1)), sequence: UInt64(bitPattern: row.int64(2))))
            }
            return hints
        }
    }

    public func setHint(_ hint: Hint) {
        change("write hint") { s in
            try s.upsertHint.run([.text(hint.target), .text(hint.key.text), .integer(Int64(bitPattern: hint.sequence))])
        }
    }

    public func removeHint(target: String, key: Key) {
        change("remove hint") { s in try s.deleteHint.run([.text(target), .text(key.text)]) }
    }

    /// The identity stored in `meta`, made (at random, never 0) and stored
    /// first if there is none.
    private static func identity(of connection: SQLiteConnection) throws(SQLiteStorageError) -> UInt64 {
        let select = "SELECT value FROM meta WHERE name = 'identity'"
        if let stored = try connection.execute(select).first {
            guard let identity = UInt64(stored), identity != 0 else {
                throw SQLiteStorageError("the node identity '\(stored)' in meta is damaged")
            }
            return identity
        }
        let fresh = UInt64.random(in: 1...UInt64.max)
        _ = try connection.execute("INSERT INTO meta (name, value) VALUES ('identity', '\(fresh)')")
        return fresh
    }

    // MARK: Membership and epochs

    public func membership() -> [MemberEntry] {
        perform("read membership") { s in
            var entries: [MemberEntry] = []
            try s.selectMembership.run { entries = try decoder.decode([MemberEntry].self, from: Data($0.bytes(0))) }
            return entries
        }
    }

    public func setMembership(_ entries: [MemberEntry]) {
        change("write membership") { s in try s.upsertMembership.run([.blob(Array(try encoder.encode(entries)))]) }
    }

    public func joinContact() -> Address? {
        perform("read join contact") { s in
            var contact: Address?
            try s.selectJoinContact.run { contact = $0.text(0) }
            return contact
        }
    }

    public func setJoinContact(_ contact: Address?) {
        change("write join contact") { s in
            if let contact {
                try s.upsertJoinContact.run([.text(contact)])
            } else {
                try s.deleteJoinContact.run([])
            }
        }
    }

    /// Returns a number never returned before by this store, even across a
    /// power loss in `.process` mode: a reused epoch would reuse dots, and a
    /// reused dot silently replaces another write on every replica.
    ///
    /// Epochs are reserved `epochBlock` at a time with an `fsync`ed commit in
    /// either mode, then handed out from memory; an unused rest of a block is
    /// skipped after a restart. Within one open store the numbers are
    /// consecutive, as in `MemoryStorage`.
    public func nextEpoch() -> UInt64 {
        if lastEpoch == reservedEpoch {
            // The reservation is a transaction of its own: the open batch's
            // changes so far are committed first (with the batch's durability);
            // the batch stays open, and its next change begins a new transaction.
            commitTransaction()
            reservedEpoch = perform("reserve epochs") { s in
                if durability == .process { try connection.execute("PRAGMA synchronous = FULL") }
                defer { if durability == .process { _ = try? connection.execute("PRAGMA synchronous = NORMAL") } }
                var reserved: UInt64?
                try s.reserveEpochs.run([.integer(Int64(Self.epochBlock))]) {
                    reserved = UInt64(bitPattern: $0.int64(0))
                }
                guard let reserved else { throw SQLiteStorageError("the epoch counter is missing from meta") }
                return reserved
            }
            lastEpoch = reservedEpoch - Self.epochBlock
        }
        lastEpoch += 1
        return lastEpoch
    }

    // MARK: Group commit

    /// Opens a batch: the changes of every call until `commitBatch()` go into
    /// one transaction, so many writes cost one commit (one log write, and in
    /// `.fsync` mode one `fsync`). Until `commitBatch()` returns they are not
    /// durable: the caller must hold back every acknowledgement of them, as
    /// `ServerNode` holds back its node's replies and messages. Reads in the
    /// batch see its changes. A no-op while a batch is open.
    public func beginBatch() {
        inBatch = true
    }

    public var hasPendingChanges: Bool { batchTransaction }

    /// Commits the open batch, if any.
    public func commitBatch() {
        commitTransaction()
        inBatch = false
    }

    /// Commits the open batch's changes so far; the batch stays open.
    private func commitTransaction() {
        guard batchTransaction else { return }
        perform("commit a batch") { s in try s.commit.run() }
        batchTransaction = false
    }

    /// Runs one change: inside the batch's transaction if a batch is open
    /// (beginning it at the first change), else committed on its own.
    private func change<T>(_ operation: String, _ body: (Statements) throws -> T) -> T {
        if inBatch && !batchTransaction {
            perform("begin a batch") { s in try s.begin.run() }
            batchTransaction = true
        }
        return perform(operation, body)
    }

    // MARK: Internals

    /// Whether a transaction is open on the connection.
    var inTransaction: Bool { connection.inTransaction }

    /// The value of `PRAGMA name` on this store's connection.
    func pragma(_ name: String) throws -> String {
        try query("PRAGMA \(name)").first ?? ""
    }

    /// The first column of every row `sql` returns, on this store's
    /// connection (while the store is open, no other connection may read
    /// its database between checkpoint rounds).
    func query(_ sql: String) throws -> [String] {
        try connection.execute(sql)
    }

    /// Runs one storage operation; a failure stops the process (see the type's
    /// documentation on errors).
    private func perform<T>(_ operation: String, _ body: (Statements) throws -> T) -> T {
        guard let statements else { fatalError("SQLiteStorage (\(path)): \(operation) after close()") }
        performing += 1
        defer { performing -= 1 }
        do {
            let result = try body(statements)
            if lockStep != .nothing && performing == 1 && !connection.inTransaction {
                let step = lockStep
                lockStep = .nothing
                try changeLocking(step)
            }
            return result
        } catch {
            fatalError("SQLiteStorage (\(path)): cannot \(operation): \(error)")
        }
    }

    private static func configure(_ connection: SQLiteConnection, durability: Durability, pageCacheMiB: Int) throws {
        // The first statement that reads the file header: a corrupt file fails here.
        let mode = try connection.execute("PRAGMA journal_mode = WAL").first
        guard mode == "wal" else {
            throw SQLiteStorageError("cannot switch to WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try connection.execute("PRAGMA synchronous = \(durability.synchronous)")
        // A negative cache_size is in KiB.
        try connection.execute("PRAGMA cache_size = -\(pageCacheMiB * 1024)")
    }

    /// Creates the schema in an empty database, accepts the current one (its
    /// places converted if they were computed for another partition count),
    /// converts older ones, and refuses anything else.
    private static func migrate(_ connection: SQLiteConnection, path: String, conversion: PlaceConversion) throws {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let version = try connection.execute("PRAGMA user_version").first.flatMap { Int($0) } ?? -1
            switch version {
            case schemaVersion:
                let stored = try connection.execute("SELECT value FROM meta WHERE name = 'partition_count'").first
                if stored.flatMap({ Int($0) }) != conversion.partitionCount {
                    try conversion.convert(connection, decode: WireCodec.decodeSiblings)
                }
            case 1, 2:
                let decoder = JSONDecoder()
                try conversion.convert(connection) { bytes in
                    version == 1
                        ? try decoder.decode(SiblingSet.self, from: Data(bytes)) : try WireCodec.decodeSiblings(bytes)
                }
            case 0:
                let objects = try connection.execute("SELECT count(*) FROM sqlite_schema").first.flatMap { Int($0) }
                guard objects == 0 else {
                    throw SQLiteStorageError("\(path) is an SQLite database but not a Kvorum store (no schema version)")
                }
                try connection.execute(recordsTable("records"))
                try connection.execute(indexesAndSummaries)
                try connection.execute(
                    """
                    CREATE TABLE hints (
                        target TEXT COLLATE BINARY NOT NULL,
                        key TEXT COLLATE BINARY NOT NULL,
                        sequence INTEGER NOT NULL,
                        PRIMARY KEY (target, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
                    INSERT INTO meta (name, value) VALUES ('epoch', 0);
                    INSERT INTO meta (name, value) VALUES ('partition_count', \(conversion.partitionCount));
                    PRAGMA user_version = \(schemaVersion);
                    """)
                try connection.execute(StoredSummaries.markSaved)
            default:
                throw SQLiteStorageError(
                    "\(path) has schema version \(version), but this kvorum knows only version \(schemaVersion); "
                        + "it was written by a newer kvorum")
            }
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }
}

extension SQLiteStorage {
    /// The records table of schema 3, created under `name`.
    fileprivate static func recordsTable(_ name: String) -> String {
        """
        CREATE TABLE \(name) (
            key TEXT COLLATE BINARY PRIMARY KEY NOT NULL,
            siblings BLOB NOT NULL,
            own_actor TEXT,
            part INTEGER NOT NULL,
            digest INTEGER NOT NULL,
            deleted INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    }

    /// The indexes on `records` and the table of partition summaries.
    fileprivate static let indexesAndSummaries = """
        CREATE INDEX records_by_partition ON records (part, key);
        CREATE INDEX records_deleted ON records (key) WHERE deleted;
        CREATE TABLE partitions (part INTEGER PRIMARY KEY, hash INTEGER NOT NULL, keys INTEGER NOT NULL);
        """
}

/// Converts every record of an older store, or of one kept for another
/// partition count, into the current schema, inside the migration's
/// transaction: each record's place is computed, the partition summaries
/// summed, and the indexes built once at the end. The only open that reads
/// every record, so it reports its progress.
private struct PlaceConversion {
    let partitionCount: Int
    let progress: (_ done: Int, _ total: Int) -> Void

    func convert(_ connection: SQLiteConnection, decode: ([UInt8]) throws -> SiblingSet) throws {
        var counter = try RecordProgress(connection, report: progress)
        try connection.execute(SQLiteStorage.recordsTable("records_next"))
        let select = try connection.prepare("SELECT key, siblings, own_actor FROM records")
        let insert = try connection.prepare(
            "INSERT INTO records_next (key, siblings, own_actor, part, digest, deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        )
        var summaries = (0..<partitionCount).map { PartitionSummary(partition: $0) }
        try select.run { row in
            let key = Key(row.text(0))
            let siblings = try decode(row.bytes(1))
            let place = TreePlace(key: key, siblings: siblings, partitionCount: partitionCount)
            try insert.run([
                .text(key.text), .blob(WireCodec.encode(siblings)), row.isNull(2) ? .null : .text(row.text(2)),
                .integer(Int64(place.partition)), .integer(Int64(bitPattern: place.digest)),
                .integer(siblings.isDeleted ? 1 : 0),
            ])
            summaries[place.partition].replace(nil, with: place.digest)
            counter.step()
        }
        try connection.execute(
            """
            DROP TABLE records;
            DROP TABLE IF EXISTS partitions;
            ALTER TABLE records_next RENAME TO records;
            \(SQLiteStorage.indexesAndSummaries)
            INSERT INTO meta (name, value) VALUES ('partition_count', \(partitionCount))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value;
            PRAGMA user_version = \(SQLiteStorage.schemaVersion);
            """)
        let write = try connection.prepare("INSERT INTO partitions (part, hash, keys) VALUES (?1, ?2, ?3)")
        for summary in summaries where !summary.isEmpty {
            try write.run([
                .integer(Int64(summary.partition)), .integer(Int64(bitPattern: summary.hash)),
                .integer(Int64(summary.keys)),
            ])
        }
        try connection.execute(StoredSummaries.markSaved)
        counter.finish()
    }
}

/// The statements of every storage call, prepared once at open. A class:
/// every storage call takes them, and a struct of 21 references was copied,
/// each retained and released, at every one.
private final class Statements {
    let selectRecord: SQLiteStatement
    let updateRecord: SQLiteStatement
    let insertRecord: SQLiteStatement
    let deleteRecord: SQLiteStatement
    let selectDigest: SQLiteStatement
    let selectPartitionDigests: SQLiteStatement
    let selectDeletedKeys: SQLiteStatement
    let selectKeys: SQLiteStatement
    let selectRecordsFrom: SQLiteStatement
    let selectRecordsAfter: SQLiteStatement
    let selectHints: SQLiteStatement
    let upsertHint: SQLiteStatement
    let deleteHint: SQLiteStatement
    let selectMembership: SQLiteStatement
    let upsertMembership: SQLiteStatement
    let selectJoinContact: SQLiteStatement
    let upsertJoinContact: SQLiteStatement
    let deleteJoinContact: SQLiteStatement
    let reserveEpochs: SQLiteStatement
    let begin: SQLiteStatement
    let commit: SQLiteStatement

    init(_ connection: SQLiteConnection) throws {
        selectRecord = try connection.prepare("SELECT siblings, own_actor, digest FROM records WHERE key = ?1")
        updateRecord = try connection.prepare(
            "UPDATE records SET siblings = ?2, own_actor = ?3, digest = ?4, deleted = ?5 WHERE key = ?1")
        insertRecord = try connection.prepare(
            "INSERT INTO records (key, siblings, own_actor, digest, deleted, part) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        deleteRecord = try connection.prepare("DELETE FROM records WHERE key = ?1 RETURNING part, digest")
        selectDigest = try connection.prepare("SELECT digest FROM records WHERE key = ?1")
        selectPartitionDigests = try connection.prepare(
            "SELECT key, digest FROM records WHERE part = ?1 ORDER BY key")
        selectDeletedKeys = try connection.prepare("SELECT key FROM records WHERE deleted ORDER BY key")
        selectKeys = try connection.prepare("SELECT key FROM records ORDER BY key")
        selectRecordsFrom = try connection.prepare(
            "SELECT key, siblings, own_actor FROM records WHERE key >= ?1 ORDER BY key")
        selectRecordsAfter = try connection.prepare(
            "SELECT key, siblings, own_actor FROM records WHERE key > ?1 ORDER BY key")
        selectHints = try connection.prepare("SELECT target, key, sequence FROM hints ORDER BY target, key")
        upsertHint = try connection.prepare(
            """
            INSERT INTO hints (target, key, sequence) VALUES (?1, ?2, ?3)
            ON CONFLICT (target, key) DO UPDATE SET sequence = excluded.sequence
            """)
        deleteHint = try connection.prepare("DELETE FROM hints WHERE target = ?1 AND key = ?2")
        selectMembership = try connection.prepare("SELECT value FROM meta WHERE name = 'membership'")
        upsertMembership = try connection.prepare(
            """
            INSERT INTO meta (name, value) VALUES ('membership', ?1)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """)
        selectJoinContact = try connection.prepare("SELECT value FROM meta WHERE name = 'join_contact'")
        upsertJoinContact = try connection.prepare(
            """
            INSERT INTO meta (name, value) VALUES ('join_contact', ?1)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """)
        deleteJoinContact = try connection.prepare("DELETE FROM meta WHERE name = 'join_contact'")
        reserveEpochs = try connection.prepare(
            "UPDATE meta SET value = value + ?1 WHERE name = 'epoch' RETURNING value")
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
    }
}
