import Foundation
import Testing

@testable import kvorum

/// `cluster up` waits for nodes while they make progress, and gives up only
/// after the stall limit without any.
struct StartupProgressTests {
    @Test func aGrowingLogOrAnotherReadyNodeIsProgress() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        FileManager.default.createFile(atPath: log, contents: Data("starting\n".utf8))
        let start = ContinuousClock.now
        let limit = Duration.seconds(30)
        var progress = StartupProgress(logs: [log, log + ".missing"], now: start)

        progress.observe(ready: 0, now: start + .seconds(20))
        #expect(!progress.stalled(at: start + .seconds(29), limit: limit))
        #expect(progress.stalled(at: start + .seconds(31), limit: limit), "nothing changed for 31 s")

        let handle = try #require(FileHandle(forWritingAtPath: log))
        handle.seekToEndOfFile()
        handle.write(Data("converting the store: 100000 of 3000000 records\n".utf8))
        try handle.close()
        progress.observe(ready: 0, now: start + .seconds(40))
        #expect(!progress.stalled(at: start + .seconds(69), limit: limit), "the log grew at 40 s")
        #expect(progress.stalled(at: start + .seconds(71), limit: limit))

        progress.observe(ready: 1, now: start + .seconds(80))
        #expect(!progress.stalled(at: start + .seconds(109), limit: limit), "a node got ready at 80 s")
        progress.observe(ready: 0, now: start + .seconds(90))
        progress.observe(ready: 1, now: start + .seconds(100))
        #expect(progress.stalled(at: start + .seconds(111), limit: limit), "a node ready again is no progress")
    }
}
