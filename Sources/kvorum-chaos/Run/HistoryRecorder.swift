import Foundation
import KvorumChaos

/// Appends history entries, from any thread, to a JSON-lines file and keeps
/// them for the checker. Times are seconds since the recorder was made.
final class HistoryRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let file: FileHandle
    private let started = Date()
    private var entries: [HistoryEntry] = []
    private var nextOp = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path)
        else { throw KitError.failed("cannot write the history to \(path)") }
        self.file = file
    }

    /// Seconds since the run started.
    var now: Double { Date().timeIntervalSince(started) }

    /// A fresh operation number.
    func newOp() -> Int {
        lock.lock()
        defer { lock.unlock() }
        nextOp += 1
        return nextOp
    }

    func append(_ entry: HistoryEntry) {
        lock.lock()
        defer { lock.unlock() }
        entries.append(entry)
        file.write(Data((History.line(entry) + "\n").utf8))
    }

    /// Everything recorded so far.
    var recorded: [HistoryEntry] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        try? file.synchronize()
        try? file.close()
    }
}
