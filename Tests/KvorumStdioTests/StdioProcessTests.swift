import Foundation
import KvorumStdio
import KvorumTestKit
import Testing

/// The real `kvorum node --stdio` process: handshake, one answer per line,
/// errors that keep it running, clean exit at end of input.
@Suite("stdio process")
struct StdioProcessTests {
    private func runNode(_ lines: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(
            Paths.kvorum, ["node", "--stdio", "--name", "node01", "--address", "127.0.0.1:9701"],
            input: lines.map { $0 + "\n" }.joined(), deadline: 20)
    }

    /// Malformed lines each get an error line (and a note on stderr); the
    /// node keeps serving the valid lines around them and exits 0 at EOF.
    @Test func malformedLinesGetErrorsAndTheNodeKeepsGoing() throws {
        let result = try runNode([
            #"{"event":"start","time":0}"#,
            "this is not json",
            #"{"event":"client","time":0.1,"id":1,"type":"JOIN","body":"127.0.0.1:9701"}"#,
            #"{"event":"teleport","time":0.2}"#,
            #"{"event":"client","time":0.3,"type":"GET"}"#,
            #"{"event":"peer","time":0.4,"from":"127.0.0.1:9702","message":{"nonsense":true}}"#,
            "",
            #"{"event":"client","time":0.5,"id":2,"type":"PUT","body":{"key":"k","value":"v","quorum":1}}"#,
            #"{"event":"client","time":0.6,"id":3,"type":"GET","body":{"key":"k","quorum":1}}"#,
        ])
        #expect(!result.timedOut)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 10, "handshake + one line per input line:\n\(result.stdout)")
        guard lines.count == 10 else { return }
        #expect(try StdioProtocol.decodeHandshake(lines[0]) == ("node01", "127.0.0.1:9701"))
        for index in [2, 4, 5, 6, 7] {
            #expect(throws: StdioProtocol.LineError.self) { try StdioProtocol.decodeEffects(lines[index]) }
        }
        #expect(try StdioProtocol.decodeEffects(lines[3]).isEmpty)
        #expect(lines[8].contains(#""type":"PUT_RESP""#))
        #expect(lines[9].contains(#""values":["v"]"#))
        #expect(result.stderr.components(separatedBy: "\n").filter { $0.contains("event line") }.count == 5)
    }

    /// End of input right after the handshake: a clean exit, quickly.
    @Test func endOfInputExitsCleanly() throws {
        let result = try runNode([])
        #expect(!result.timedOut)
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").count == 1)
        #expect(result.seconds < 5, "start-up and exit took \(result.seconds) s")
    }

    /// Bad command-line options are refused before any handshake.
    @Test func badOptionsAreRefused() throws {
        let result = try ChildProcess.run(
            Paths.kvorum,
            ["node", "--stdio", "--name", "n", "--address", "a:1", "--request-timeout", "-3"], deadline: 20)
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("--request-timeout"))
    }
}
