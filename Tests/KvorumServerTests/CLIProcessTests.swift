import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// The `kvorum` CLI as a user runs it: a real process against real nodes.
@Suite(.serialized)
struct CLIProcessTests {
    /// Waiting for a node that accepts the connection and never answers
    /// costs next to no CPU, and the wait ends at the deadline (2 s) with
    /// the unreachable-node exit status. (The URLSession client spent about
    /// as much CPU as wall time here.)
    @Test(.timeLimit(.minutes(1)))
    func waitingForASilentNodeCostsNoCPU() throws {
        let listener = try #require(LoopbackPorts.openListener(port: 0, reuseAddress: false))
        defer { close(listener.descriptor) }
        let run = try ChildProcess.run(
            Paths.kvorum, ["get", "k", "--node", "127.0.0.1:\(listener.port)", "--timeout", "2"], deadline: 20)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("no answer within 2 s"), "\(run.stderr)")
        #expect(run.seconds >= 2 && run.seconds < 10, "waited \(run.seconds) s")
        let cpu = try #require(run.cpuSeconds)
        #expect(cpu < 0.25 * run.seconds, "\(cpu) s of CPU in \(run.seconds) s")
    }
}
