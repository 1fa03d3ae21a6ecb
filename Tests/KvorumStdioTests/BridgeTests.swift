import Foundation
import KvorumTestKit
import Testing

/// The course-harness bridge (compat/dslib/node.py) end to end: its Python
/// test suite starts bridged nodes on the real `kvorum` executable under a
/// test double of the harness and runs the seed's ten scenarios through them
/// (compat/dslib/README.md).
@Suite("dslib bridge")
struct BridgeTests {
    /// `python3 -m unittest discover -s compat/dslib/tests` passes against the
    /// executable `swift test` just built.
    @Test func pythonBridgeSuitePasses() throws {
        let python = URL(fileURLWithPath: "/usr/bin/env")
        let result = try ChildProcess.run(
            python, ["python3", "-m", "unittest", "discover", "-s", "compat/dslib/tests", "-v"],
            environment: ["KVORUM_EXECUTABLE": Paths.kvorum.path], directory: Paths.repository, deadline: 600)
        let summary = result.stderr.split(separator: "\n").suffix(4).joined(separator: "\n")
        print("dslib bridge suite: \(String(format: "%.1f", result.seconds)) s\n\(summary)")
        #expect(!result.timedOut, "the bridge suite did not finish in 600 s")
        #expect(result.status == 0, "bridge suite failed:\n\(result.stderr)\n\(result.stdout)")
    }
}
