import CSQLite
import Foundation
import KvorumCore
import KvorumTestKit
import Testing

@testable import KvorumServer

/// The durable store against `MemoryStorage`, its reference semantics, and
/// against crashes, reopening, odd bytes and damaged files. Serialized so the
/// printed write rates are not skewed by the suite's other tests.
@Suite(.serialized)
struct SQLiteStorageTests {
    /// A fixed-seed sequence of random operations gives the same observable
    /// results on both stores, across closes and reopens of the SQLite one,
    /// with its record cache off, smaller than the keys used, and large.
    @Test(arguments: [0, 3, SQLiteStorage.defaultCachedRecords])
    func matchesMemoryStorage(cachedRecords: Int) throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 0x4B76_6F72_756D)
            let memory = MemoryStorage()
            var sqlite = try SQLiteStorage(directory: directory, cachedRecords: cachedRecords)
            var lastEpochs: (memory: UInt64, sqlite: UInt64)?
            var reopened = false
            for step in 0..<2_000 {
                let key = Self.keys.randomElement(using: &random)!
                let target = Self.targets.randomElement(using: &random)!
                switch random.below(100) {
                case 0..<30:
                    let record = randomRecord(using: &random)
                    memory.setRecord(record, for: key)
                    sqlite.setRecord(record, for: key)
                case 30..<40:
                    memory.removeRecord(for: key)
                    sqlite.removeRecord(for: key)
                case 40..<55:
                    #expect(sqlite.record(for: key) == memory.record(for: key), "step \(step)")
                case 55..<60:
                    #expect(sqlite.keys() == memory.keys(), "step \(step)")
                    #expect(sqlite.partitionSummaries() == memory.partitionSummaries(), "step \(step)")
                    #expect(sqlite.deletedKeys() == memory.deletedKeys(), "step \(step)")
                    let partition = Ring.partition(of: key, partitionCount: NodeConfig.defaultPartitionCount)
                    #expect(sqlite.digests(inPartition: partition) == memory.digests(inPartition: partition))
                    #expect(sqlite.digest(of: key) == memory.digest(of: key), "step \(step)")
                case 60..<70:
                    let hint = Hint(target: target, key: key, sequence: random.next())
                    memory.setHint(hint)
                    sqlite.setHint(hint)
                case 70..<78:
                    memory.removeHint(target: target, key: key)
                    sqlite.removeHint(target: target, key: key)
                case 78..<83:
                    #expect(sqlite.hints() == memory.hints(), "step \(step)")
                case 83..<88:
                    let entries = (0..<random.below(4)).map { _ in randomMember(using: &random) }
                    memory.setMembership(entries)
                    sqlite.setMembership(entries)
                case 88..<92:
                    #expect(sqlite.membership() == memory.membership(), "step \(step)")
                case 92..<99:
                    let epochs = (memory: memory.nextEpoch(), sqlite: sqlite.nextEpoch())
                    if let last = lastEpochs {
                        // Consecutive within one open store; only increasing across a reopen.
                        if reopened {
                            #expect(epochs.sqlite > last.sqlite, "step \(step)")
                        } else {
                            #expect(epochs.sqlite - last.sqlite == epochs.memory - last.memory, "step \(step)")
                        }
                    }
                    lastEpochs = epochs
                    reopened = false
                default:
                    sqlite.close()
                    sqlite = try SQLiteStorage(directory: directory, cachedRecords: cachedRecords)
                    reopened = true
                }
                #expect(sqlite.recordCount == memory.recordCount, "step \(step)")
            }
            try #require(sqlite.keys() == memory.keys())
            for key in Self.keys { #expect(sqlite.record(for: key) == memory.record(for: key)) }
            #expect(sqlite.hints() == memory.hints())
            #expect(sqlite.membership() == memory.membership())
            #expect(sqlite.partitionSummaries() == memory.partitionSummaries())
            #expect(sqlite.deletedKeys() == memory.deletedKeys())
            #expect(memory.recordCount > 0 && !memory.hints().isEmpty, "the sequence should leave data behind")
            #expect(!memory.deletedKeys().isEmpty, "the sequence should leave a deleted key behind")
            sqlite.close()
        }
    }

    /// Everything written survives a close and a reopen; epochs keep growing.
    @Test(arguments: SQLiteStorage.Durability.allCases)
    func survivesReopen(durability: SQLiteStorage.Durability) throws {
        try withTemporaryDirectory { directory in
            let records = sampleRecords()
            let hints = [
                Hint(target: "n2", key: "k1", sequence: 7),
                Hint(target: "n1", key: "k2", sequence: UInt64.max),
            ]
            let members = [
                MemberEntry(name: "n1", address: "127.0.0.1:7001", status: .up, version: 3),
                MemberEntry(name: "n2", address: "127.0.0.1:7002", status: .left, version: 9),
            ]
            let store = try SQLiteStorage(directory: directory, durability: durability)
            for (key, record) in records { store.setRecord(record, for: key) }
            for hint in hints { store.setHint(hint) }
            store.setMembership(members)
            let epochs = (0..<3).map { _ in store.nextEpoch() }
            store.close()
            store.close()

            let reopened = try SQLiteStorage(directory: directory, durability: durability)
            defer { reopened.close() }
            #expect(reopened.recordCount == records.count)
            #expect(reopened.keys() == records.keys.sorted())
            for (key, record) in records { #expect(reopened.record(for: key) == record) }
            #expect(reopened.hints() == hints.sorted { byteOrder($0.target, $1.target) })
            #expect(reopened.membership() == members)
            #expect(epochs == [epochs[0], epochs[0] + 1, epochs[0] + 2])
            let next = reopened.nextEpoch()
            #expect(next > epochs[2])
            #expect(reopened.nextEpoch() == next + 1)
        }
    }

    /// Keys are ordered by their UTF-8 bytes, and keys that differ only in
    /// Unicode normalisation are different keys.
    @Test func byteWiseKeysAndNormalisation() throws {
        try withTemporaryDirectory { directory in
            let nfc = "caf\u{E9}"
            let nfd = "cafe\u{301}"
            let keys = [
                "\u{1F600}", "\u{FF5A}", "\u{FFFD}", "\u{65E5}\u{672C}", nfc, nfd, "\u{80}", "\u{7F}", "z", "b",
                "a\u{0}", "a", "Z", "",
            ]
            let store = try SQLiteStorage(directory: directory)
            defer { store.close() }
            for (index, key) in keys.enumerated() {
                store.setRecord(StoredRecord(siblings: SiblingSet([version("n1", 1, "v\(index)")])), for: Key(key))
            }
            // Swift's `<` compares canonically equivalent strings as equal and
            // UTF-16 order would put U+1F600 before U+FF5A; bytes decide here.
            let expected = [
                "", "Z", "a", "a\u{0}", "b", nfd, nfc, "z", "\u{7F}", "\u{80}", "\u{65E5}\u{672C}", "\u{FF5A}",
                "\u{FFFD}", "\u{1F600}",
            ]
            #expect(store.keys().map { Array($0.utf8) } == expected.map { Array($0.utf8) })
            #expect(expected.map { Array($0.utf8) } == keys.sorted(by: byteOrder).map { Array($0.utf8) })
            #expect(store.recordCount == keys.count)
            #expect(store.record(for: Key(nfc))?.siblings.values == ["v4"])
            #expect(store.record(for: Key(nfd))?.siblings.values == ["v5"])
            store.removeRecord(for: Key(nfd))
            #expect(store.record(for: Key(nfc)) != nil)
            #expect(store.recordCount == keys.count - 1)

            store.setHint(Hint(target: nfc, key: Key(nfc), sequence: 3))
            store.setHint(Hint(target: nfc, key: Key(nfd), sequence: 2))
            store.setHint(Hint(target: nfd, key: Key(nfc), sequence: 1))
            #expect(store.hints().map(\.sequence) == [1, 2, 3])
        }
    }

    /// A node on the disk store, standing in for a replica, takes a copy of
    /// two keys that differ only in Unicode normalisation: its hint queue and
    /// hash tree hold two keys, as the store does (with `String` keys the
    /// node kept one hint for the two records, and its invariants broke).
    @Test func aNodeKeepsAHintPerKeyAsTheStoreDoes() throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory)
            defer { store.close() }
            let node = KvorumNode(config: NodeConfig(name: "n1", address: "127.0.0.1:7001"), storage: store)
            for (op, (key, value)) in [("caf\u{E9}", "composed"), ("cafe\u{301}", "decomposed")].enumerated() {
                let copy = PeerBody.write(
                    op: UInt64(op), key: Key(key), siblings: SiblingSet([version("n2.1", UInt64(op + 1), value)]),
                    hintFor: "n3")
                _ = node.handle(
                    .peer(from: "127.0.0.1:7002", PeerMessage(from: "n2", viewDigest: 0, body: copy)), now: 1)
            }
            #expect(store.recordCount == 2)
            #expect(store.hints().count == 2)
            #expect(node.pendingHintCount == 2)
            #expect(node.invariantViolations().isEmpty)
            #expect(store.record(for: Key("caf\u{E9}"))?.siblings.values == ["composed"])
            #expect(store.record(for: Key("cafe\u{301}"))?.siblings.values == ["decomposed"])
        }
    }

    /// Values, keys and actors with NUL bytes, newlines, quotes and emoji
    /// come back byte for byte.
    @Test func oddBytesRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let values = [
                "", "\u{0}", "nul\u{0}inside", "line1\nline2\r\n", "tab\tquote\"backslash\\",
                "\u{1F469}\u{200D}\u{1F4BB}",
                "\u{1F1FA}\u{1F1E6}", String(repeating: "\u{0}x\n", count: 30_000),
            ]
            let keys = ["k", "k\u{0}", "k\u{0}ey", "\n", "\u{1F511}"]
            let store = try SQLiteStorage(directory: directory)
            for (index, key) in keys.enumerated() {
                let versions = values.enumerated().map { version("\u{1F916}\u{0}\(index)", UInt64($0 + 1), $1) }
                store.setRecord(
                    StoredRecord(siblings: SiblingSet(versions), ownActor: "actor\u{0}\u{1F916}"), for: Key(key))
            }
            store.close()
            let reopened = try SQLiteStorage(directory: directory)
            defer { reopened.close() }
            #expect(reopened.keys().map { Array($0.utf8) } == keys.sorted(by: byteOrder).map { Array($0.utf8) })
            for key in keys {
                let record = try #require(reopened.record(for: Key(key)))
                #expect(Set(record.siblings.values.map { Array($0.utf8) }) == Set(values.map { Array($0.utf8) }))
                #expect(record.ownActor.map { Array($0.utf8) } == Array("actor\u{0}\u{1F916}".utf8))
            }
        }
    }

    /// A store that was never closed (its process died) is found complete by
    /// the next open: in place, while the dead connection's files remain, and
    /// from a copy of only the database and its log (forcing log recovery).
    @Test func crashWithoutClose() throws {
        try withTemporaryDirectory { directory in
            let records = (0..<500).map {
                (Key("key-\($0)"), StoredRecord(siblings: SiblingSet([version("n1", 1, "v\($0)")])))
            }
            let hint = Hint(target: "n2", key: "key-1", sequence: 3)
            let members = [MemberEntry(name: "n1", address: "127.0.0.1:7001", status: .up, version: 1)]
            let first = try SQLiteStorage(directory: directory, checkpoints: Self.noCheckpoints)
            for (key, record) in records { first.setRecord(record, for: key) }
            first.removeRecord(for: "key-0")
            first.setHint(hint)
            first.setMembership(members)
            let epoch = first.nextEpoch()

            let second = try SQLiteStorage(directory: try crashImage(of: first, in: directory + "/copy"))
            #expect(second.recordCount == records.count - 1)
            #expect(second.record(for: "key-0") == nil)
            for (key, record) in records.dropFirst() { #expect(second.record(for: key) == record) }
            #expect(second.hints() == [hint])
            #expect(second.membership() == members)
            #expect(second.nextEpoch() > epoch)
            #expect(second.partitionSummaries() == recomputedSummaries(of: second))
            second.close()

            // While it is open, no other connection (another process) can open it.
            let error = #expect(throws: SQLiteStorageError.self) {
                try SQLiteStorage(directory: directory, lockTimeout: 0.05)
            }
            #expect(error?.description.contains("in use by another process") == true, "\(String(describing: error))")
            first.close()
            // Also when it was reopened and has not written anything yet.
            let reopened = try SQLiteStorage(directory: directory)
            #expect(reopened.recordCount == records.count - 1)
            #expect(throws: SQLiteStorageError.self) { try SQLiteStorage(directory: directory, lockTimeout: 0.05) }
            reopened.close()
        }
    }

    /// The log is copied into the database by the background thread once
    /// `roundFrames` frames are waiting, and starts over once it is long: its
    /// file stays bounded however much is written, and every record survives
    /// a reopen.
    @Test func checkpointsOffTheWritersThread() throws {
        try withTemporaryDirectory { directory in
            let policy = Self.smallCheckpoints
            let store = try SQLiteStorage(directory: directory, checkpoints: policy)
            let value = String(repeating: "v", count: 300)
            func write(_ range: Range<Int>) {
                for i in range {
                    store.setRecord(
                        StoredRecord(siblings: SiblingSet([version("n1", 1, "\(value)-\(i)")])), for: "key-\(i)")
                }
            }
            #expect(store.checkpointCounts == CheckpointCounts())
            // Enough commits for a round; the background thread then copies them.
            write(0..<6)
            let deadline = Date().addingTimeInterval(30)
            while store.checkpointCounts.rounds == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            let first = store.checkpointCounts
            #expect(first.rounds >= 1)
            #expect(first.roundFrames >= policy.roundFrames)

            // Thousands of frames later the log has started over, and its
            // file holds at most what a log of `limitFrames` holds.
            write(6..<3000)
            let counts = store.checkpointCounts
            #expect(counts.finishes >= 1, "\(counts)")
            #expect(counts.rounds > first.rounds)
            let frame = 4096 + 24
            let log = try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int ?? -1
            #expect(log > 0 && log <= 32 + (policy.limitFrames + 16) * frame, "log file of \(log) bytes")
            store.close()

            let reopened = try SQLiteStorage(directory: directory)
            defer { reopened.close() }
            #expect(reopened.recordCount == 3000)
            for i in stride(from: 0, to: 3000, by: 7) {
                #expect(reopened.record(for: "key-\(i)")?.siblings.values == ["\(value)-\(i)"])
            }
            #expect(reopened.partitionSummaries() == recomputedSummaries(of: reopened))
        }
    }

    /// SQLite keeps no memory statistics in a node: counting them took a
    /// process-wide mutex on every allocation and free. With them off,
    /// SQLite reports no memory in use, however much a store has used.
    @Test func sqliteKeepsNoMemoryStatistics() throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory)
            defer { store.close() }
            for i in 0..<100 {
                store.setRecord(StoredRecord(siblings: SiblingSet([version("n1", 1, "v\(i)")])), for: Key("key-\(i)"))
            }
            #expect(store.record(for: "key-7")?.siblings.values == ["v7"])
            #expect(sqlite3_memory_used() == 0)
            #expect(sqlite3_memory_highwater(0) == 0)
        }
    }

    /// Between checkpoint rounds the store's connection holds the database
    /// alone (SQLite's exclusive locking mode: no file or WAL-index lock per
    /// commit), lets it go when a round is due, and takes it back after.
    @Test func holdsTheDatabaseAloneBetweenRounds() throws {
        try withTemporaryDirectory { directory in
            let policy = CheckpointPolicy(roundFrames: 64, restartFrames: 1_000_000)
            let store = try SQLiteStorage(directory: directory, checkpoints: policy)
            defer { store.close() }
            func othersCanRead() throws -> Bool {
                let other = try SQLiteConnection(path: store.path)
                defer { other.close() }
                other.setBusyTimeout(milliseconds: 0)
                do {
                    _ = try other.execute("SELECT count(*) FROM records")
                    return true
                } catch  where error.code == SQLITE_BUSY {
                    return false
                }
            }
            var written = 0
            func write() {
                store.setRecord(
                    StoredRecord(siblings: SiblingSet([version("n1", 1, String(repeating: "v", count: 300))])),
                    for: Key("key-\(written)"))
                written += 1
            }
            #expect(try othersCanRead(), "shared until the first commit")
            write()
            write()
            #expect(try !othersCanRead(), "held from the write after the first commit")

            // Enough frames for a round: the writer lets the database go for it ...
            let deadline = Date().addingTimeInterval(30)
            while store.checkpointCounts.rounds == 0, Date() < deadline {
                if written < 500 { write() } else { Thread.sleep(forTimeInterval: 0.01) }
            }
            #expect(store.checkpointCounts.rounds >= 1)
            #expect(store.checkpointCounts.finishes == 0)
            // ... and takes it back at a later commit, once the round is
            // over (on a loaded machine that can take a while).
            var held = false
            let takenBack = Date().addingTimeInterval(30)
            while !held, Date() < takenBack {
                write()
                held = try !othersCanRead()
                if !held { Thread.sleep(forTimeInterval: 0.005) }
            }
            #expect(held)
            #expect(try store.query("SELECT count(*) FROM records") == ["\(written)"])
        }
    }

    /// The partition summaries reach the table when the store closes, not
    /// with each record (a second page per write); an open after a close
    /// reads the table, and one after a crash sums the records' digests.
    @Test func summariesSavedAtCloseSummedAfterACrash() throws {
        try withTemporaryDirectory { directory in
            func written(_ range: Range<Int>) -> [(Key, StoredRecord)] {
                range.map { (Key("key-\($0)"), StoredRecord(siblings: SiblingSet([version("n1", 1, "v\($0)")]))) }
            }
            func tableRows() throws -> Int {
                let reader = try SQLiteConnection(path: directory + "/kvorum.sqlite")
                defer { reader.close() }
                return Int(try reader.execute("SELECT count(*) FROM partitions").first ?? "") ?? -1
            }
            let store = try SQLiteStorage(directory: directory, checkpoints: Self.noCheckpoints)
            for (key, record) in written(0..<300) { store.setRecord(record, for: key) }
            store.removeRecord(for: "key-7")
            #expect(
                try store.query("SELECT count(*) FROM partitions") == ["0"],
                "nothing is written to the table while the store is open")
            let summaries = store.partitionSummaries()
            #expect(summaries == recomputedSummaries(of: store))
            store.close()
            #expect(try tableRows() == summaries.count)

            var reports: [SQLiteStorage.OpeningWork] = []
            let reopened = try SQLiteStorage(directory: directory, checkpoints: Self.noCheckpoints) { work, _, _ in
                reports.append(work)
            }
            #expect(reports.isEmpty, "a closed store opens without reading a record")
            #expect(reopened.partitionSummaries() == summaries)
            for (key, record) in written(300..<400) { reopened.setRecord(record, for: key) }
            reopened.removeRecord(for: "key-8")

            var totals: [Int] = []
            let crashed = try SQLiteStorage(directory: try crashImage(of: reopened, in: directory + "/copy")) {
                work, done, total in
                #expect(work == .summing)
                totals.append(total)
            }
            defer { crashed.close() }
            reopened.close()
            #expect(totals.first == 398 && totals.count >= 2)
            #expect(crashed.partitionSummaries() == recomputedSummaries(of: crashed))
            #expect(crashed.partitionSummaries() != summaries)
        }
    }

    /// A real `kill -9`: a child process (this test binary, running
    /// `crashChildWriter`) writes records and reports each acknowledged one;
    /// after SIGKILL, every acknowledged record is in the store.
    @Test func survivesSIGKILL() throws {
        try withTemporaryDirectory { directory in
            let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = ["--testing-library", "swift-testing", "--filter", "crashChildWriter"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.childEnvironment: directory]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            defer {
                if child.isRunning { kill(child.processIdentifier, SIGKILL) }
                child.waitUntilExit()
            }
            let acks = directory + "/acks"
            let deadline = Date().addingTimeInterval(120)
            while acknowledged(in: acks).count < 300, child.isRunning, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            try #require(child.isRunning, "the child writer should still be writing")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)

            let written = acknowledged(in: acks)
            try #require(written.count >= 300)
            let store = try SQLiteStorage(directory: directory)
            defer { store.close() }
            #expect(store.recordCount >= written.count)
            for index in written {
                #expect(store.record(for: "key-\(index)")?.siblings.values == ["value-\(index)"], "key-\(index)")
            }
            #expect(store.partitionSummaries() == recomputedSummaries(of: store))
        }
    }

    /// The child half of `survivesSIGKILL`, run only in the child process
    /// (skipped otherwise): writes records until killed, appending the index
    /// of each one whose `setRecord` returned to `acks`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[SQLiteStorageTests.childEnvironment] != nil))
    func crashChildWriter() throws {
        let directory = try #require(ProcessInfo.processInfo.environment[Self.childEnvironment])
        // Checkpoints every few commits, so the kill can land in any of them.
        let store = try SQLiteStorage(directory: directory, checkpoints: Self.smallCheckpoints)
        let acks = open(directory + "/acks", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        try #require(acks >= 0)
        let parent = getppid()
        // Bounded, and stops early should the parent test die without killing
        // it. Writes go in group commits of 1 to 8 records; a record is
        // acknowledged only once its batch has committed.
        var index = 0
        while index < 1_000_000, getppid() == parent {
            let batch = index..<(index + 1 + (index / 10) % 8)
            store.beginBatch()
            for i in batch {
                store.setRecord(StoredRecord(siblings: SiblingSet([version("n1", 1, "value-\(i)")])), for: "key-\(i)")
            }
            store.commitBatch()
            let lines = Array(batch.map { "\($0)\n" }.joined().utf8)
            try #require(write(acks, lines, lines.count) == lines.count)
            index = batch.upperBound
        }
    }

    /// A batch's changes are visible to its own reads at once, and survive a
    /// crash only once committed; reserving epochs mid-batch commits what came
    /// before and keeps the batch open. A batch begins its transaction at its
    /// first change, so reads alone open none.
    @Test func batchCommitsTogether() throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory, checkpoints: Self.noCheckpoints)
            defer { store.close() }
            var crashes = 0
            func afterCrash() throws -> SQLiteStorage {
                crashes += 1
                return try SQLiteStorage(directory: try crashImage(of: store, in: directory + "/crash\(crashes)"))
            }
            let records = sampleRecords()
            store.beginBatch()
            #expect(store.inBatch)
            #expect(store.record(for: "a") == nil)
            #expect(!store.inTransaction && !store.hasPendingChanges)
            store.setRecord(records["siblings"]!, for: "a")
            #expect(store.inTransaction && store.hasPendingChanges)
            #expect(store.record(for: "a") == records["siblings"])
            #expect(try afterCrash().record(for: "a") == nil)
            _ = store.nextEpoch()
            #expect(store.inBatch && !store.inTransaction && !store.hasPendingChanges)
            #expect(try afterCrash().record(for: "a") == records["siblings"])
            store.setRecord(records["dots"]!, for: "b")
            store.setHint(Hint(target: "n2", key: "b", sequence: 1))
            let beforeCommit = try afterCrash()
            #expect(beforeCommit.record(for: "b") == nil && beforeCommit.hints().isEmpty)
            #expect(store.inTransaction)
            store.commitBatch()
            #expect(!store.inBatch && !store.inTransaction && !store.hasPendingChanges)
            let afterCommit = try afterCrash()
            #expect(afterCommit.record(for: "b") == records["dots"])
            #expect(afterCommit.hints() == [Hint(target: "n2", key: "b", sequence: 1)])
        }
    }

    /// Each durability mode sets its `synchronous` level; reserving epochs in
    /// `.process` mode leaves the level as it was. Both get the connection
    /// settings the store is tuned with.
    @Test(arguments: [(SQLiteStorage.Durability.process, "1"), (.fsync, "2")])
    func durabilitySetsSynchronous(durability: SQLiteStorage.Durability, level: String) throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory, durability: durability)
            defer { store.close() }
            #expect(try store.pragma("journal_mode") == "wal")
            #expect(try store.pragma("synchronous") == level)
            #expect(try store.pragma("locking_mode") == "normal")
            #expect(try store.pragma("cache_size") == "-8192")
            // SQLite's automatic checkpoints are off: the store's commit hook decides.
            #expect(try store.pragma("wal_autocheckpoint") == "0")
            _ = store.nextEpoch()
            #expect(try store.pragma("synchronous") == level)
        }
    }

    /// The page cache is the one asked for, in KiB (a negative cache_size).
    @Test func pageCacheSize() throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory, pageCacheMiB: 3)
            defer { store.close() }
            #expect(try store.pragma("cache_size") == "-3072")
        }
    }

    /// A damaged file, a newer schema and a foreign database are refused with
    /// a clear error, not a crash.
    @Test func refusesWhatItCannotRead() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let garbage = Data((0..<8_192).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
            try garbage.write(to: URL(fileURLWithPath: directory + "/kvorum.sqlite"))
            let error = #expect(throws: SQLiteStorageError.self) { try SQLiteStorage(directory: directory) }
            #expect(error?.description.contains("is corrupt or not an SQLite database") == true)
        }
        try withTemporaryDirectory { directory in
            try SQLiteStorage(directory: directory).close()
            let raw = try SQLiteConnection(path: directory + "/kvorum.sqlite")
            try raw.execute("PRAGMA user_version = 99")
            raw.close()
            let error = #expect(throws: SQLiteStorageError.self) { try SQLiteStorage(directory: directory) }
            #expect(error?.description.contains("schema version 99") == true)
        }
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let raw = try SQLiteConnection(path: directory + "/kvorum.sqlite")
            try raw.execute("CREATE TABLE other (x)")
            raw.close()
            let error = #expect(throws: SQLiteStorageError.self) { try SQLiteStorage(directory: directory) }
            #expect(error?.description.contains("not a Kvorum store") == true)
        }
    }

    /// A store written by schema 1 (sibling sets as JSON) opens with every
    /// record, actor, hint and epoch intact, and is rewritten as schema 3
    /// (binary sibling sets in a table clustered on the key, with places).
    @Test func convertsSchemaOne() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let raw = try SQLiteConnection(path: directory + "/kvorum.sqlite")
            try raw.execute(
                """
                CREATE TABLE records (key TEXT COLLATE BINARY PRIMARY KEY NOT NULL, siblings BLOB NOT NULL, own_actor TEXT);
                CREATE TABLE hints (target TEXT COLLATE BINARY NOT NULL, key TEXT COLLATE BINARY NOT NULL,
                    sequence INTEGER NOT NULL, PRIMARY KEY (target, key)) WITHOUT ROWID;
                CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
                INSERT INTO meta (name, value) VALUES ('epoch', 2048);
                INSERT INTO hints (target, key, sequence) VALUES ('n2', 'dots', 7);
                PRAGMA user_version = 1;
                """)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let insert = try raw.prepare("INSERT INTO records (key, siblings, own_actor) VALUES (?1, ?2, ?3)")
            for (key, record) in sampleRecords().sorted(by: { $0.key < $1.key }) {
                try insert.run([
                    .text(key.text), .blob(Array(try encoder.encode(record.siblings))),
                    record.ownActor.map { .text($0) } ?? .null,
                ])
            }
            raw.close()

            let store = try SQLiteStorage(directory: directory)
            #expect(try store.pragma("user_version") == "\(SQLiteStorage.schemaVersion)")
            for (key, record) in sampleRecords() { #expect(store.record(for: key) == record) }
            #expect(store.partitionSummaries() == recomputedSummaries(of: store))
            #expect(store.recordCount == sampleRecords().count)
            #expect(store.hints() == [Hint(target: "n2", key: "dots", sequence: 7)])
            #expect(store.nextEpoch() == 2049)
            store.close()
            let check = try SQLiteConnection(path: directory + "/kvorum.sqlite")
            defer { check.close() }
            let table = try check.execute("SELECT sql FROM sqlite_schema WHERE name = 'records'")
            #expect(table.count == 1 && table[0].contains("WITHOUT ROWID"), "\(table)")
        }
    }

    /// A store of schema 2 (no places) is converted on open, reporting its
    /// progress: every record gets its partition and digest, the partitions
    /// their summaries, and the deleted keys their index.
    @Test func convertsSchemaTwo() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let raw = try SQLiteConnection(path: directory + "/kvorum.sqlite")
            try raw.execute(
                """
                CREATE TABLE records (key TEXT COLLATE BINARY PRIMARY KEY NOT NULL, siblings BLOB NOT NULL,
                    own_actor TEXT) WITHOUT ROWID;
                CREATE TABLE hints (target TEXT COLLATE BINARY NOT NULL, key TEXT COLLATE BINARY NOT NULL,
                    sequence INTEGER NOT NULL, PRIMARY KEY (target, key)) WITHOUT ROWID;
                CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
                INSERT INTO meta (name, value) VALUES ('epoch', 1024);
                PRAGMA user_version = 2;
                """)
            var records = sampleRecords()
            records["gone"] = StoredRecord(
                siblings: SiblingSet([
                    Version(dot: Dot(actor: "n1.1", counter: 9), past: VersionVector(), payload: .tombstone)
                ]))
            let insert = try raw.prepare("INSERT INTO records (key, siblings, own_actor) VALUES (?1, ?2, ?3)")
            for (key, record) in records.sorted(by: { $0.key < $1.key }) {
                try insert.run([
                    .text(key.text), .blob(WireCodec.encode(record.siblings)),
                    record.ownActor.map { .text($0) } ?? .null,
                ])
            }
            raw.close()

            var reports: [[Int]] = []
            var summing = 0
            let store = try SQLiteStorage(directory: directory) { work, done, total in
                if work == .converting { reports.append([done, total]) } else { summing += 1 }
            }
            defer { store.close() }
            #expect(reports.first == [0, records.count] && reports.last == [records.count, records.count])
            #expect(summing == 0, "a converted store's summaries are current")
            #expect(try store.pragma("user_version") == "\(SQLiteStorage.schemaVersion)")
            let reference = MemoryStorage()
            for (key, record) in records {
                #expect(store.record(for: key) == record)
                reference.setRecord(record, for: key)
            }
            #expect(store.recordCount == records.count)
            #expect(store.partitionSummaries() == reference.partitionSummaries())
            #expect(store.deletedKeys() == ["gone"])
            for summary in reference.partitionSummaries() {
                #expect(
                    store.digests(inPartition: summary.partition) == reference.digests(inPartition: summary.partition))
            }
        }
    }

    /// A store kept for another partition count is converted on open (and
    /// only then): places are computed for the new count.
    @Test func reopensForAnotherPartitionCount() throws {
        try withTemporaryDirectory { directory in
            let records = sampleRecords()
            let first = try SQLiteStorage(directory: directory)
            for (key, record) in records { first.setRecord(record, for: key) }
            first.close()

            var reports = 0
            let converted = try SQLiteStorage(directory: directory, partitionCount: 16) { _, _, _ in reports += 1 }
            let reference = MemoryStorage()
            for (key, record) in records { reference.setRecord(record, for: key, partitionCount: 16) }
            #expect(reports >= 2)
            #expect(converted.partitionSummaries() == reference.partitionSummaries())
            #expect(converted.partitionSummaries().allSatisfy { $0.partition < 16 })
            converted.close()

            reports = 0
            let reopened = try SQLiteStorage(directory: directory, partitionCount: 16) { _, _, _ in reports += 1 }
            #expect(reports == 0, "an open for the same count reads no record")
            #expect(reopened.partitionSummaries() == reference.partitionSummaries())
            reopened.close()
        }
    }

    /// Prints (does not assert) the rate of `setRecord` in each mode.
    @Test(arguments: SQLiteStorage.Durability.allCases)
    func writeRate(durability: SQLiteStorage.Durability) throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory, durability: durability)
            defer { store.close() }
            // Every write changes its row: SQLite skips writing a row that is
            // rewritten byte for byte, which would flatter the overwrites.
            let count = 10_000
            let padding = String(repeating: "v", count: 100)
            let records = (0..<count).map {
                StoredRecord(
                    siblings: SiblingSet([version("n1.1", UInt64($0 + 1), "\($0)\(padding)")]), ownActor: "n1.1")
            }
            let elapsed = ContinuousClock().measure {
                for (index, record) in records.enumerated() { store.setRecord(record, for: "key-\(index % 5_000)") }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "SQLiteStorage .\(durability): \(count) setRecord (5,000 inserts, 5,000 overwrites) in "
                    + "\(String(format: "%.2f", seconds)) s = \(Int(Double(count) / seconds)) ops/s")
            #expect(store.recordCount == 5_000)
        }
    }

    /// The range scan of a key listing visits what the memory store's does,
    /// in byte order (keys that differ only in bytes above 0x7F, and the two
    /// spellings of "café"), inside a batch and after a commit, passes only
    /// the keys `include` lets through, and stops when told to.
    @Test func scanRecordsMatchesMemoryStorage() throws {
        try withTemporaryDirectory { directory in
            let store = try SQLiteStorage(directory: directory)
            let memory = MemoryStorage()
            let keys =
                Self.keys + [
                    "k\u{E9}", "k\u{E9}\u{E9}", "k\u{FF}", "k\u{100}", "kz", "caf\u{E9}-1", "cafe\u{301}-1", "\u{FF}",
                ]
            for (index, key) in keys.enumerated() {
                let record = StoredRecord(
                    siblings: SiblingSet([
                        Version(dot: Dot(actor: "n1.1", counter: UInt64(index + 1)), past: VersionVector(), value: "v")
                    ]))
                store.setRecord(record, for: key)
                memory.setRecord(record, for: key)
            }
            func scan(
                _ storage: any Storage, _ prefix: Key, _ after: Key?, stopAfter: Int,
                include: (Key) -> Bool = { _ in true }
            ) -> [[UInt8]] {
                var seen: [(Key, StoredRecord)] = []
                storage.scanRecords(prefix: prefix, after: after, where: include) { key, record in
                    seen.append((key, record))
                    return seen.count < stopAfter
                }
                #expect(seen.allSatisfy { storage.record(for: $0.0) == $0.1 })
                return seen.map { Array($0.0.utf8) }
            }
            let prefixes: [Key] = ["", "k", "k\u{E9}", "caf\u{E9}", "cafe", "\u{FF}", "nothing"]
            let cursors: [Key?] = [nil, "", "a", "k", "k\u{E9}", "k\u{FF}", "caf\u{E9}", "\u{1F600}"]
            for batch in [true, false] {
                if batch { store.beginBatch() }
                for prefix in prefixes {
                    for after in cursors {
                        for stopAfter in [1, 3, Int.max] {
                            #expect(
                                scan(store, prefix, after, stopAfter: stopAfter)
                                    == scan(memory, prefix, after, stopAfter: stopAfter),
                                "prefix \(prefix) after \(String(describing: after)) stop \(stopAfter)")
                            let even: (Key) -> Bool = { $0.utf8.count % 2 == 0 }
                            #expect(
                                scan(store, prefix, after, stopAfter: stopAfter, include: even)
                                    == scan(memory, prefix, after, stopAfter: stopAfter, include: even),
                                "even keys, prefix \(prefix) after \(String(describing: after)) stop \(stopAfter)")
                        }
                    }
                }
                if batch { store.commitBatch() }
            }
            #expect(scan(store, "k", "k\u{E9}", stopAfter: .max).count == 3)
        }
    }

    // MARK: Fixtures

    static let childEnvironment = "KVORUM_SQLITE_CRASH_CHILD_DIRECTORY"
    /// A checkpoint policy for a few hundred small records.
    static let smallCheckpoints = CheckpointPolicy(roundFrames: 16, restartFrames: 64, finishFrames: 16)
    /// No checkpoint for the length of a test: a `crashImage` copies the
    /// database and its log one after the other, which is a crash image only
    /// while nothing moves frames from one to the other.
    static let noCheckpoints = CheckpointPolicy(roundFrames: 1_000_000, restartFrames: 1_000_000)

    /// Keys for the random sequence: non-ASCII, NUL, empty, and two that are
    /// canonically equivalent (equal as Swift `String`s, two keys to both stores).
    static let keys: [Key] = [
        "", "a", "b", "ab", "a\u{0}b", "Z", "caf\u{E9}", "cafe\u{301}", "\u{F6}l", "\u{65E5}\u{672C}", "\u{1F600}",
        "line\nbreak",
        "k1", "k2", "k10", "\u{FF5A}", "\u{7F}", "\u{80}",
    ]
    static let targets = ["n1", "n2", "n10", "n\u{F6}"]
}

/// A fresh directory under the system's temporary directory, removed afterwards.
private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kvorum-sqlite-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: url) }
    try body(url.path)
}

/// What a crash of `store`'s process now would leave on disk: a copy of its
/// database and log files in `directory` (created), returned for opening.
private func crashImage(of store: SQLiteStorage, in directory: String) throws -> String {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: store.path + suffix) {
        try FileManager.default.copyItem(atPath: store.path + suffix, toPath: directory + "/kvorum.sqlite" + suffix)
    }
    return directory
}

/// The indexes in an acknowledgement file, complete lines only.
private func acknowledged(in path: String) -> [Int] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    return lines.dropLast().compactMap { Int($0) }
}

private func version(_ actor: String, _ counter: UInt64, _ value: String) -> Version {
    Version(dot: Dot(actor: actor, counter: counter), past: VersionVector(), value: value)
}

private func sampleRecords() -> [Key: StoredRecord] {
    let concurrent = SiblingSet([
        version("n1.1", 2, "left"),
        Version(dot: Dot(actor: "n2.4", counter: 1), past: VersionVector(["n1.1": 1]), value: "right"),
    ])
    let withDots = SiblingSet([
        Version(
            dot: Dot(actor: "n3.1", counter: 5),
            past: VersionVector(["n1.1": 2], dots: [Dot(actor: "n2.4", counter: 3)]),
            value: "gap")
    ])
    let merged = SiblingSet([Version(dot: nil, past: VersionVector(["n1.1": 3, "n2.4": 1]), value: "cart")])
    return [
        "siblings": StoredRecord(siblings: concurrent, ownActor: "n1.1"),
        "dots": StoredRecord(siblings: withDots),
        "merged": StoredRecord(siblings: merged, ownActor: "n2.4"),
        "empty": StoredRecord(siblings: SiblingSet()),
    ]
}

private let actors = ["n1.1", "n1.2", "n2.1", "n\u{F6}.1"]
private let values = ["", "v", "\u{0}", "two\nlines", "\u{1F600}", "caf\u{E9}"]

/// The summaries of `store`'s partitions recomputed from its records.
private func recomputedSummaries(of store: SQLiteStorage) -> [PartitionSummary] {
    let reference = MemoryStorage()
    for key in store.keys() {
        reference.setRecord(store.record(for: key)!, for: key, partitionCount: store.partitionCount)
    }
    return reference.partitionSummaries()
}

private func randomRecord(using random: inout SplitMix64) -> StoredRecord {
    let versions = (0...random.below(3)).map { _ in
        let past = VersionVector(
            Dictionary(actors.map { ($0, UInt64(random.below(3))) }, uniquingKeysWith: max),
            dots: random.below(4) == 0 ? [Dot(actor: actors.randomElement(using: &random)!, counter: 5)] : [])
        let dot =
            random.below(5) == 0
            ? nil : Dot(actor: actors.randomElement(using: &random)!, counter: UInt64(1 + random.below(6)))
        guard random.below(4) > 0 else { return Version(dot: dot, past: past, payload: .tombstone) }
        return Version(dot: dot, past: past, value: values.randomElement(using: &random)!)
    }
    let ownActor = random.below(2) == 0 ? nil : actors.randomElement(using: &random)
    return StoredRecord(siblings: SiblingSet(versions), ownActor: ownActor)
}

private func randomMember(using random: inout SplitMix64) -> MemberEntry {
    MemberEntry(
        name: SQLiteStorageTests.targets.randomElement(using: &random)!,
        address: "127.0.0.1:\(7000 + random.below(10))",
        status: random.below(2) == 0 ? .up : .left, version: UInt64(random.below(100)))
}
