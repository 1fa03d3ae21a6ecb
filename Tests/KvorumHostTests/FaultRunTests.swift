import Foundation
import KvorumChaos
import KvorumTestKit
import XCTest

@testable import kvorum_chaos

/// A short seeded fault run on five test hosts, as `kvorum-chaos run` does it
/// by hand (docs/chaos.md): real nodes, every kind of fault, three workloads,
/// and the history checker's verdict. It runs with `--tls`, as a cluster
/// across hosts must: mutual TLS between the nodes, and the kit's clients on
/// HTTPS with a token. Needs root and iproute2; without them
/// it prints a `SKIPPED:` line and passes.
final class FaultRunTests: XCTestCase {
    /// The run's seed: its nemesis schedule is fixed (see `Nemesis`).
    private let seed = 11

    func testShortSeededRunLosesNothing() throws {
        if let reason = TestCluster.unsupportedReason() {
            print("SKIPPED: FaultRunTests: \(reason); the fault run did not run")
            return
        }
        let chaos = Paths.kvorum.deletingLastPathComponent().appendingPathComponent("kvorum-chaos")
        XCTAssertTrue(
            FileManager.default.isExecutableFile(atPath: chaos.path), "no kvorum-chaos at \(chaos.path): swift build")
        let tag = "f\(getpid() % 10_000)"
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("kvorum-faultrun-\(getpid())")
        defer { try? FileManager.default.removeItem(at: work) }
        let result = try ChildProcess.run(
            chaos,
            [
                "run", "--seconds", "60", "--seed", "\(seed)", "--hosts", "5", "--subnet", "10.213.9", "--tag", tag,
                "--work-dir", work.path, "--kvorum", Paths.kvorum.path, "--tls",
            ], deadline: 400)
        let output = result.stdout + result.stderr
        XCTAssertFalse(result.timedOut, "the fault run overran its deadline:\n\(output)")
        XCTAssertEqual(result.status, 0, "the fault run failed:\n\(output)")

        // The run must have done real work under real faults: a history the
        // checker judges valid only because nothing happened proves nothing.
        let entries = try History.parse(
            jsonLines: String(contentsOf: work.appendingPathComponent("history.jsonl"), encoding: .utf8))
        let report = HistoryChecker.check(entries)
        XCTAssertTrue(report.isValid, report.rendered())
        var acknowledged: [Workload: Int] = [:]
        var faults: Set<FaultKind> = []
        for entry in entries {
            switch entry {
            case .ok(let record) where record.f == .write: acknowledged[record.workload, default: 0] += 1
            case .nemesis(let record): faults.insert(record.fault)
            default: break
            }
        }
        for workload in Workload.allCases {
            XCTAssertGreaterThan(acknowledged[workload, default: 0], 100, "too few acknowledged \(workload) writes")
        }
        XCTAssertGreaterThanOrEqual(faults.count, 4, "the nemesis applied only \(faults)")
        let log = try String(contentsOf: work.appendingPathComponent("logs/h1.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("peer TLS on"), "h1 did not run with TLS")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "/run/netns/kvc\(tag)h1"),
            "the run left its namespaces behind")
    }
}
