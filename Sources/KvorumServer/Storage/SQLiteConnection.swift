import CSQLite
import Foundation

/// An error from the SQLite store: what failed, and SQLite's own message.
public struct SQLiteStorageError: Error, CustomStringConvertible, Sendable {
    /// The SQLite result code, or `nil` for an error outside SQLite (such as
    /// a data directory that cannot be created or a schema that is too new).
    public var code: Int32?
    public var description: String

    init(code: Int32? = nil, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

/// One SQLite connection, confined to the thread that uses it: opened in
/// SQLite's multi-thread mode, so the connection itself takes no mutex.
final class SQLiteConnection {
    /// `nil` once closed.
    private var handle: OpaquePointer?
    /// Every statement prepared here, finalized by `close()`.
    private var statements: [SQLiteStatement] = []
    /// What `onCommit` installed; kept alive while SQLite may call it.
    private var commitHook: CommitHook?

    /// SQLite's process-wide settings, made once before the first
    /// connection opens (`shim.h` says why). False only if something else
    /// in this process initialized SQLite first.
    private static let configured: Bool = kvorum_sqlite3_disable_memory_statistics() == SQLITE_OK

    init(path: String) throws(SQLiteStorageError) {
        _ = Self.configured
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw SQLiteStorageError(code: rc, "cannot open \(path): \(message)")
        }
        handle = db
    }

    deinit { close() }

    /// Waits up to `milliseconds` for a lock held by another connection
    /// before an operation fails with `SQLITE_BUSY`.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(open(), milliseconds)
    }

    /// Prepares `sql` for repeated use; finalized when the connection closes.
    func prepare(_ sql: String) throws(SQLiteStorageError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(open(), sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, sql) }
        let prepared = SQLiteStatement(handle: statement, sql: sql, connection: self)
        statements.append(prepared)
        return prepared
    }

    /// Runs `sql` (one or more statements, no parameters) once, returning the
    /// first column of every result row as text.
    @discardableResult
    func execute(_ sql: String) throws(SQLiteStorageError) -> [String] {
        let db = open()
        var results: [String] = []
        var failure: SQLiteStorageError?
        sql.withCString { text in
            var tail: UnsafePointer<CChar>? = text
            while let start = tail, start.pointee != 0 {
                var statement: OpaquePointer?
                let rc = sqlite3_prepare_v2(db, start, -1, &statement, &tail)
                guard rc == SQLITE_OK else {
                    failure = error(rc, sql)
                    return
                }
                guard let statement else { continue }  // whitespace or a comment
                defer { sqlite3_finalize(statement) }
                while true {
                    let step = sqlite3_step(statement)
                    if step == SQLITE_DONE { break }
                    guard step == SQLITE_ROW else {
                        failure = error(step, sql)
                        return
                    }
                    results.append(SQLiteRow(handle: statement).text(0))
                }
            }
        }
        if let failure { throw failure }
        return results
    }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    var inTransaction: Bool { sqlite3_get_autocommit(open()) == 0 }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    var changes: Int64 { sqlite3_changes64(open()) }

    /// Copies the write-ahead log into the database as far as no reader of
    /// another connection still needs its frames, syncing both files as the
    /// connection's `synchronous` level asks (SQLite's `PASSIVE` checkpoint).
    /// Returns `nil` when another connection's checkpoint is running.
    func checkpoint() throws(SQLiteStorageError) -> WALProgress? {
        var logFrames: Int32 = 0
        var checkpointedFrames: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(open(), nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &checkpointedFrames)
        if rc == SQLITE_BUSY { return nil }
        guard rc == SQLITE_OK else { throw error(rc, "a passive WAL checkpoint") }
        return WALProgress(logFrames: Int(logFrames), checkpointedFrames: Int(checkpointedFrames))
    }

    /// Calls `body` after every commit that wrote to the write-ahead log,
    /// with the frames the log then holds (SQLite's WAL hook). It replaces
    /// SQLite's automatic checkpoints: the caller decides when to checkpoint.
    func onCommit(_ body: @escaping (_ logFrames: Int) -> Void) {
        let hook = CommitHook(body)
        commitHook = hook
        sqlite3_wal_hook(
            open(),
            { context, _, _, frames in
                guard let context else { return SQLITE_OK }
                Unmanaged<CommitHook>.fromOpaque(context).takeUnretainedValue().body(Int(frames))
                return SQLITE_OK
            }, Unmanaged.passUnretained(hook).toOpaque())
    }

    /// Removes what `onCommit` installed; SQLite's automatic checkpoints
    /// stay off.
    func removeCommitHook() {
        guard let db = handle else { return }
        sqlite3_wal_hook(db, nil, nil)
        commitHook = nil
    }

    /// Finalizes every prepared statement and closes the connection; idempotent.
    func close() {
        guard let db = handle else { return }
        removeCommitHook()
        for statement in statements { sqlite3_finalize(statement.handle) }
        statements = []
        sqlite3_close_v2(db)
        handle = nil
    }

    /// The error SQLite reports for result code `rc` while running `sql`.
    func error(_ rc: Int32, _ sql: String) -> SQLiteStorageError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        return SQLiteStorageError(code: rc, "\(message) (SQLite code \(rc), in: \(sql))")
    }

    private func open() -> OpaquePointer {
        guard let handle else { fatalError("SQLite connection used after close()") }
        return handle
    }
}

/// The write-ahead log after a checkpoint: its frames (pages), and how many
/// of them are now in the database file.
struct WALProgress: Equatable {
    var logFrames: Int
    var checkpointedFrames: Int
}

/// The body of a connection's WAL hook, boxed for SQLite's context pointer.
private final class CommitHook {
    let body: (Int) -> Void

    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

/// A prepared statement of one `SQLiteConnection`, reused across calls.
final class SQLiteStatement {
    fileprivate let handle: OpaquePointer
    private let sql: String
    private unowned let connection: SQLiteConnection

    fileprivate init(handle: OpaquePointer, sql: String, connection: SQLiteConnection) {
        self.handle = handle
        self.sql = sql
        self.connection = connection
    }

    /// Binds `values` to the parameters `?1…`, steps to completion calling
    /// `row` for each result row, and resets the statement for its next use.
    ///
    /// Stepping to `SQLITE_DONE` matters: outside an explicit transaction the
    /// statement's changes are committed only then (for `RETURNING` too).
    func run(_ values: [SQLiteValue] = [], row: (SQLiteRow) throws -> Void = { _ in }) throws {
        try scan(values) { result in
            try row(result)
            return true
        }
    }

    /// Binds `values` and steps through the result rows, calling `row` for
    /// each until it returns false or the rows run out, then resets the
    /// statement. For reads: a write must step to completion (`run`).
    func scan(_ values: [SQLiteValue], row: (SQLiteRow) throws -> Bool) throws {
        try withBindings(values, from: 0) {
            defer {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
            while true {
                let rc = sqlite3_step(handle)
                if rc == SQLITE_DONE { return }
                guard rc == SQLITE_ROW else { throw connection.error(rc, sql) }
                guard try row(SQLiteRow(handle: handle)) else { return }
            }
        }
    }

    /// Binds `values[index...]` and runs `body`, which must leave the
    /// statement reset and unbound. Text and blobs are bound where they lie
    /// (`SQLITE_STATIC`), valid while `body` runs: SQLite copying each one
    /// (`SQLITE_TRANSIENT`), after a C string was made of every text, cost
    /// five allocations per write.
    private func withBindings(_ values: [SQLiteValue], from index: Int, _ body: () throws -> Void) throws {
        guard index < values.count else { return try body() }
        let position = Int32(index + 1)
        func next() throws { try withBindings(values, from: index + 1, body) }
        switch values[index] {
        case .integer(let number):
            try bound(sqlite3_bind_int64(handle, position, number))
            try next()
        case .null:
            try bound(sqlite3_bind_null(handle, position))
            try next()
        case .text(var text):
            // An explicit length keeps NUL bytes inside the text; the empty
            // text needs a pointer all the same (a null one binds NULL).
            try text.withUTF8 { bytes in
                let start = bytes.baseAddress.map { UnsafeRawPointer($0) } ?? emptyText
                try bound(
                    sqlite3_bind_text(
                        handle, position, start.assumingMemoryBound(to: CChar.self), Int32(bytes.count), sqliteStatic))
                try next()
            }
        case .blob(let bytes):
            guard !bytes.isEmpty else {
                try bound(sqlite3_bind_zeroblob(handle, position, 0))
                return try next()
            }
            try bytes.withUnsafeBytes {
                try bound(sqlite3_bind_blob(handle, position, $0.baseAddress, Int32($0.count), sqliteStatic))
                try next()
            }
        }
    }

    /// Throws for a failed bind, first unbinding what was bound: those
    /// values' memory is released as the error unwinds.
    private func bound(_ rc: Int32) throws {
        guard rc == SQLITE_OK else {
            sqlite3_clear_bindings(handle)
            throw connection.error(rc, sql)
        }
    }
}

/// The current result row of a statement; valid only inside `run`'s callback.
struct SQLiteRow {
    fileprivate let handle: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// The column as text, all its bytes (NUL bytes included).
    func text(_ column: Int32) -> String {
        guard let start = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    /// The column as a blob's bytes.
    func bytes(_ column: Int32) -> [UInt8] {
        guard let start = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }
}

/// `SQLITE_STATIC`: a bound value's memory stays valid until the statement
/// is unbound, and SQLite reads it where it lies.
private let sqliteStatic = unsafeBitCast(0, to: sqlite3_destructor_type.self)
/// What an empty text is bound to: a valid pointer, as a null one binds NULL.
private var emptyText: UnsafeRawPointer { UnsafeRawPointer(("" as StaticString).utf8Start) }
