import Foundation

/// When a store's write-ahead log is copied into its database, in log frames
/// (one database page, 4 KiB, each); see `WALCheckpointer`.
public struct CheckpointPolicy: Sendable {
    /// A background round starts once this many frames are not yet in the
    /// database (SQLite's own default threshold: 4 MiB of pages).
    public var roundFrames: Int
    /// The log starts over once it holds this many frames (128 MiB) ...
    ///
    /// The restart is the one checkpoint on the writer's thread, and its two
    /// `fsync`s stall every request of the node: with a restart every 8,000
    /// frames, 16 connections of quorum writes saw a p99.9 of 61–118 ms;
    /// every 32,000 frames, 17–23 ms (never: 17–18 ms);
    /// bench/results/2026-12-01-wal-restart.md.
    public var restartFrames: Int
    /// ... and at most this many are left to copy on the writer's thread.
    public var finishFrames: Int

    public init(roundFrames: Int = 1000, restartFrames: Int = 32000, finishFrames: Int = 64) {
        self.roundFrames = roundFrames
        self.restartFrames = restartFrames
        self.finishFrames = finishFrames
    }

    /// Past this length the writer checkpoints whatever is left.
    var limitFrames: Int { 2 * restartFrames }

    func validated() -> CheckpointPolicy {
        precondition(
            roundFrames > 0 && finishFrames >= 0 && restartFrames >= roundFrames,
            "a checkpoint policy needs 0 < roundFrames <= restartFrames and finishFrames >= 0")
        return self
    }
}

/// The checkpoints a store has run since it was opened.
public struct CheckpointCounts: Equatable, Sendable {
    /// Background rounds, and the frames they copied.
    public var rounds = 0
    public var roundFrames = 0
    /// Checkpoints on the writer's thread, and the frames they copied.
    public var finishes = 0
    public var finishFrames = 0
}

/// What the store's connection does after a commit, as `WALCheckpointer`
/// decides.
enum CommitStep: Equatable {
    case nothing
    /// Checkpoint the log on the writer's thread now, and report the result
    /// with `WALCheckpointer.finished(with:)`.
    case checkpoint
    /// Hold the database alone again (`PRAGMA locking_mode = EXCLUSIVE`,
    /// taken at the next write): no background round is due.
    case holdTheLog
    /// Let the database go (`locking_mode = NORMAL`, dropped at the end of a
    /// write transaction), then call `WALCheckpointer.logShared()`: a
    /// background round is due.
    case shareTheLog
}

/// Copies a store's write-ahead log into its database on a thread of its
/// own, so the node's thread does not stall in a checkpoint.
///
/// SQLite checkpoints inside the commit that crosses `wal_autocheckpoint`:
/// that commit copies megabytes of log into the database and `fsync`s it
/// (about 70 ms for 16 MiB here) while every request waits. Here the store's
/// connection reports each commit (`committed(logFrames:)`), and this thread,
/// on a connection opened for the round, runs a passive checkpoint, which
/// never blocks the writer, whenever `CheckpointPolicy.roundFrames` frames
/// are not yet in the database.
///
/// Between rounds the store's connection holds the database alone (SQLite's
/// exclusive locking mode): a commit then takes no file lock and keeps the
/// WAL index without locking it, about 9 µs of CPU less per commit (33
/// against 23 µs per overwrite, bench/results/2026-12-01-exclusive-lock.md).
/// A round needs the database shared, so when one is due the writer is told
/// to let it go (`CommitStep.shareTheLog`, then `logShared()`); once the
/// round's connection is closed, the next commit takes it back
/// (`CommitStep.holdTheLog`).
///
/// The log file only starts over once every frame in it is in the database
/// when a write begins. Under steady writes a background round never quite
/// catches up (frames arrive while it syncs), so once the log holds
/// `CheckpointPolicy.restartFrames` frames and at most
/// `CheckpointPolicy.finishFrames` are left, the committing thread copies
/// that rest itself: a few pages and two `fsync`s, once per
/// `restartFrames`, instead of all of them. Should the
/// rounds fall behind, the log is still bounded: at
/// `CheckpointPolicy.limitFrames` the committing thread waits for the round
/// running and checkpoints whatever is left, as SQLite would.
final class WALCheckpointer: @unchecked Sendable {
    let policy: CheckpointPolicy
    /// The store's database file.
    private let path: String
    /// The store's `synchronous` level, which decides what a checkpoint syncs.
    private let synchronous: String
    private let condition = NSCondition()
    private let exited = DispatchSemaphore(value: 0)

    // Guarded by `condition`.
    private var requested = false
    private var running = false
    private var stopping = false
    private var started = false
    /// Whether the writer holds the database alone, or will at its next
    /// write; and whether it was asked to let it go and has not yet.
    private var writerHolds = false
    private var sharing = false
    /// The length of the log at the last commit, and how much of it is known
    /// to be in the database; `generation` counts the log's restarts, so a
    /// round that straddles one does not report stale progress.
    private var lastLogFrames = 0
    private var checkpointedFrames = 0
    private var generation = 0
    private var counts = CheckpointCounts()

    /// `start()` starts the thread; each round opens its own connection to
    /// `path` with the store's `synchronous` level.
    init(path: String, synchronous: String, policy: CheckpointPolicy) {
        self.policy = policy.validated()
        self.path = path
        self.synchronous = synchronous
    }

    /// Starts the thread; once only.
    func start() {
        condition.lock()
        precondition(!started && !stopping, "a checkpointer starts once, before it stops")
        started = true
        condition.unlock()
        let thread = Thread { [self] in run() }
        thread.name = "kvorum-checkpoint"
        thread.start()
    }

    /// The counts so far.
    var current: CheckpointCounts {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }

    /// Called on the writer's thread after each commit with the log's length;
    /// says what the writer does next.
    func committed(logFrames: Int) -> CommitStep {
        condition.lock()
        defer { condition.unlock() }
        if logFrames < lastLogFrames {
            generation += 1
            checkpointedFrames = 0
        }
        lastLogFrames = logFrames
        guard !stopping else { return .nothing }
        if logFrames >= policy.limitFrames {
            // The rounds fell behind: wait for the one running, then copy
            // the rest here, so the log stays bounded.
            requested = false
            while running { condition.wait() }
            return .checkpoint
        }
        guard !running, !requested, !sharing else { return .nothing }
        let pending = logFrames - min(checkpointedFrames, logFrames)
        if logFrames >= policy.restartFrames && pending <= policy.finishFrames { return .checkpoint }
        if pending >= policy.roundFrames || logFrames >= policy.restartFrames {
            if writerHolds {
                sharing = true
                return .shareTheLog
            }
            requested = true
            condition.signal()
            return .nothing
        }
        if !writerHolds {
            writerHolds = true
            return .holdTheLog
        }
        return .nothing
    }

    /// The writer has let the database go (after `CommitStep.shareTheLog`):
    /// the round can run.
    func logShared() {
        condition.lock()
        defer { condition.unlock() }
        precondition(sharing, "the writer shares the log only when asked to")
        sharing = false
        writerHolds = false
        guard !stopping else { return }
        requested = true
        condition.signal()
    }

    /// The result of the writer's own checkpoint (`nil`: another one ran).
    func finished(with progress: WALProgress?) {
        guard let progress else { return }
        condition.lock()
        defer { condition.unlock() }
        counts.finishes += 1
        counts.finishFrames += max(0, progress.checkpointedFrames - checkpointedFrames)
        checkpointedFrames = progress.checkpointedFrames
    }

    /// Stops the thread after its current round; idempotent.
    func stop() {
        condition.lock()
        let first = !stopping
        let threadRuns = started
        stopping = true
        condition.signal()
        condition.unlock()
        if first && threadRuns { exited.wait() }
    }

    private func run() {
        while let start = nextRound() {
            let progress: WALProgress?
            do {
                progress = try checkpoint()
            } catch {
                fatalError("SQLiteStorage (\(path)): cannot checkpoint the write-ahead log: \(error)")
            }
            roundEnded(progress, started: start)
        }
        exited.signal()
    }

    /// One passive checkpoint on a connection of its own, closed before the
    /// round ends so that the writer can hold the database alone again.
    private func checkpoint() throws(SQLiteStorageError) -> WALProgress? {
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        // The writer let the database go before this round was requested:
        // a lock still held is a fault of this type, not a wait.
        connection.setBusyTimeout(milliseconds: 0)
        try connection.execute("PRAGMA synchronous = \(synchronous)")
        // Reads the header, and so opens the log, first.
        try connection.execute("PRAGMA schema_version")
        return try connection.checkpoint()
    }

    /// Waits for a round to be requested; returns the log's generation then,
    /// or `nil` once stopping.
    private func nextRound() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !requested, !stopping { condition.wait() }
        guard !stopping else { return nil }
        requested = false
        running = true
        return generation
    }

    private func roundEnded(_ progress: WALProgress?, started generation: Int) {
        condition.lock()
        defer { condition.unlock() }
        running = false
        condition.broadcast()
        guard let progress, self.generation == generation else { return }
        counts.rounds += 1
        counts.roundFrames += max(0, progress.checkpointedFrames - checkpointedFrames)
        checkpointedFrames = max(checkpointedFrames, progress.checkpointedFrames)
    }
}
