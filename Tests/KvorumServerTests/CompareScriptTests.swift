import Foundation
import KvorumTestKit
import Testing

/// `bench/compare.sh`'s shell functions, run by bash under `set -o
/// pipefail` with a fake tool on the PATH: the check for an installable
/// package must hold up when the policy is long (a `| grep -q` pipeline
/// failed there with SIGPIPE and etcd was skipped as "not installable"
/// while it was), and so must reading etcd's version.
struct CompareScriptTests {
    /// Runs `call`, after defining the script's function `function`, with
    /// a fake `tool` (a shell script body) first on the PATH, in a
    /// directory that also holds `files`.
    private func run(
        _ function: String, _ call: String, tool: String, script body: (URL) -> String, files: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let fake = directory.appendingPathComponent(tool)
        try "#!/bin/sh\n\(body(directory))\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let script = Paths.repository.appendingPathComponent("bench/compare.sh").path
        let result = try ChildProcess.run(
            URL(fileURLWithPath: "/bin/bash"),
            ["-c", "set -euo pipefail; eval \"$(sed -n '/^\(function)() {/,/^}/p' '\(script)')\"; \(call)"],
            environment: ["PATH": directory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")],
            deadline: 20)
        return (result.status, result.stdout)
    }

    /// Runs `installable PACKAGE` from the script with `apt-cache` printing
    /// `policy`; the exit status says whether the script would install it.
    private func installable(policy: String) throws -> Int32 {
        try run(
            "installable", "installable etcd-server", tool: "apt-cache",
            script: { "cat '\($0.appendingPathComponent("policy").path)'" }, files: ["policy": policy]
        ).status
    }

    /// A candidate on the first line of a long policy (grep would stop
    /// there while apt-cache still writes) is installable.
    @Test func aCandidateFollowedByALongPolicyIsInstallable() throws {
        let versions = (0..<20_000).map { "     3.4.\($0) 500\n        500 http://deb.example/debian bookworm/main" }
        let policy =
            "etcd-server:\n  Installed: (none)\n  Candidate: 3.4.23-4+b4\n  Version table:\n"
            + versions.joined(separator: "\n") + "\n"
        #expect(try installable(policy: policy) == 0)
    }

    /// No candidate: not installable.
    @Test func noCandidateIsNotInstallable() throws {
        #expect(try installable(policy: "etcd-server:\n  Installed: (none)\n  Candidate: (none)\n") == 1)
    }

    /// `etcd_version` from the script, with an `etcd` on the PATH that
    /// prints `output` a line at a time.
    private func etcdVersion(output: [String]) throws -> (status: Int32, stdout: String) {
        let lines = output.map { "echo '\($0)'; sleep 0.05" }.joined(separator: "\n")
        return try run(
            "etcd_version", "etcd_version || echo 'skipped (not installable)'", tool: "etcd", script: { _ in lines })
    }

    /// The version is the first line's, once, even when etcd is still
    /// writing after it (a `| head -1` pipeline failed there under pipefail
    /// and the table said etcd was skipped beside its figures).
    @Test func etcdVersionIsTheFirstLineAlone() throws {
        let (status, text) = try etcdVersion(
            output: [
                "etcd Version: 3.4.23", "Git SHA: Not provided", "Go Version: go1.19.8", "Go OS/Arch: linux/amd64",
            ])
        #expect(status == 0)
        #expect(text == "3.4.23\n")
    }

    // MARK: bench/tables.py, from canned `kvorum bench --json` reports

    /// A report as `kvorum bench --json` writes it, with the fields the
    /// tables read.
    private func report(
        records: Int = 1000, throughput: Double, p50: Double = 0.5, p99: Double, errors: Int = 0,
        loadSeconds: Double? = nil, loadTenths: [Double]? = nil, loadErrorKinds: [String: Int] = [:]
    ) -> [String: Any] {
        var report: [String: Any] = [
            "target": "kvorum", "workload": "W", "distribution": "uniform", "records": records, "valueSize": 100,
            "concurrency": 16, "seed": 1, "loadErrors": loadErrorKinds.values.reduce(0, +),
            "loadErrorKinds": loadErrorKinds, "warmupSeconds": 1, "seconds": 10,
            "operations": Int(throughput * 10), "throughput": throughput,
            "latency": ["all": ["count": 1, "mean": p50, "p50": p50, "p95": p99, "p99": p99, "p999": p99, "max": p99]],
            "errors": errors == 0 ? [String: Int]() : ["timeout": errors],
        ]
        if let loadSeconds { report["loadSeconds"] = loadSeconds }
        if let loadTenths { report["loadTenths"] = loadTenths }
        return report
    }

    /// Writes `files` (name to JSON object) into a new directory under `root`.
    private func directory(_ root: URL, _ name: String, _ files: [String: Any]) throws -> URL {
        let directory = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (file, object) in files {
            try JSONSerialization.data(withJSONObject: object).write(to: directory.appendingPathComponent(file))
        }
        return directory
    }

    /// Runs `bench/tables.py` with `arguments`; the non-empty lines of its standard output.
    private func tables(_ arguments: [String]) throws -> [String] {
        let script = Paths.repository.appendingPathComponent("bench/tables.py").path
        let result = try ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + arguments, deadline: 20)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    private func temporaryRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tables-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    /// `tables.py instructions` on a raw file holding `raw`.
    private func instructionTable(_ raw: String) throws -> [String] {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("raw.tsv")
        try raw.write(to: path, atomically: true, encoding: .utf8)
        return try tables(["instructions", path.path])
    }

    /// One sweep row per record count, in the order given: the load overall
    /// and in its first and last tenth, W and C with p99, the RSS range of the
    /// nodes, the disk of all three and the restart time; a load's errors by
    /// kind.
    @Test func sweepTableRows() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let large = try directory(
            root, "1000000",
            [
                "W-16.json": report(
                    records: 1_000_000, throughput: 4321.4, p99: 12.346, loadSeconds: 250,
                    loadTenths: [5000, 4800, 4500, 4200, 4000, 3900, 3800, 3700, 3600, 3500],
                    loadErrorKinds: ["timeout": 4, "HTTP 503": 1]),
                "C-16.json": report(records: 1_000_000, throughput: 9000, p99: 4.5, errors: 3),
                "facts.json": [
                    "rss_kib": [300_000, 250_000, 280_000], "disk_bytes": 3_221_225_472, "restart_seconds": 2.5,
                    "crash_restart_seconds": 4.25,
                ],
            ])
        let small = try directory(
            root, "100000",
            [
                "W-16.json": report(
                    records: 100_000, throughput: 6000, p99: 3.2, loadSeconds: 20,
                    loadTenths: [5500, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 4900]),
                "C-16.json": report(records: 100_000, throughput: 11000, p99: 2),
                "facts.json": [
                    "rss_kib": [51_200, 51_200, 51_200], "disk_bytes": 104_857_600, "restart_seconds": NSNull(),
                    "crash_restart_seconds": 0.5,
                ],
            ])
        let lines = try tables(["sweep", small.path, large.path])
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("| records | load ops/s (start → end) | W c=16 ops/s, p99 | C c=16 ops/s, p99 |"))
        #expect(
            lines[2]
                == "| 100,000 | 5,000 (5,500 → 4,900) | 6,000, 3.20 ms | 11,000, 2.00 ms | 50 MiB | 100 MiB | did not answer | 0.50 s |"
        )
        #expect(
            lines[3]
                == "| 1,000,000 | 4,000 (5,000 → 3,500), 5 errors: HTTP 503 1, timeout 4 | 4,321, 12.35 ms | 9,000, 4.50 ms (3 errors: timeout 3) | 244 MiB – 293 MiB "
                + "| 3.00 GiB | 2.50 s | 4.25 s |")
    }

    /// The pair table (bench/tls.sh, bench/protocols.sh) puts B beside A for
    /// each workload and connection count both ran, with B/A and the errors
    /// of both.
    @Test func pairTablePutsBBesideA() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = try directory(
            root, "runs",
            [
                "plain-W-16.json": report(throughput: 4000, p50: 1.5, p99: 9),
                "tls-W-16.json": report(throughput: 3000, p50: 2, p99: 12.5, errors: 2),
                "plain-C-1.json": report(throughput: 2000, p99: 0.75),
                "tls-C-1.json": report(throughput: 1500, p50: 0.625, p99: 1),
                "plain-W-1.json": report(throughput: 1000, p99: 1),
            ])
        let lines = try tables(["pair", runs.path, "plain", "plain", "tls", "TLS"])
        #expect(
            lines == [
                "| workload | connections | plain ops/s | TLS ops/s | TLS/plain | plain p50 / p99 ms | TLS p50 / p99 ms | errors |",
                "|---|---:|---:|---:|---:|---|---|---:|",
                "| W | 16 | 4000 | 3000 | 0.75 | 1.500 / 9.000 | 2.000 / 12.500 | 2 |",
                "| C | 1 | 2000 | 1500 | 0.75 | 0.500 / 0.750 | 0.625 / 1.000 | 0 |",
            ])
    }

    /// The compare table puts Kvorum with fsync beside etcd (both fsync),
    /// with its own ratio, and keeps the Kvorum/peer ratios of the main rows.
    @Test func compareTableHasTheFsyncRows() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let results = try directory(
            root, "results",
            [
                "kvorum-W-16.json": report(throughput: 6000, p99: 3),
                "kvorum-W-1.json": report(throughput: 3000, p50: 0.29, p99: 0.8),
                "kvorum+fsync-W-16.json": report(throughput: 1500, p99: 20),
                "kvorum+fsync-W-1.json": report(throughput: 400, p99: 5),
                "etcd-W-16.json": report(throughput: 3000, p99: 10),
                "etcd-W-1.json": report(throughput: 800, p99: 2),
                "redis+wait-W-16.json": report(throughput: 30000, p99: 1),
            ])
        let lines = try tables(["compare", results.path])
        #expect(lines.contains("| kvorum+fsync | W | 16 | 1500 | 0.500 | 20.000 | 0 |  |"))
        #expect(lines.contains("| etcd | W | 16 | 3000 | 0.500 | 10.000 | 0 | 2.00 |"))
        #expect(lines.contains("| redis+wait | W | 16 | 30000 | 0.500 | 1.000 | 0 | 0.20 |"))
        let fsync = try #require(lines.firstIndex(of: "## Both fsync: Kvorum `--durability fsync` vs etcd put"))
        #expect(lines[fsync + 3] == "| 1 | 400 | 5.000 | 800 | 2.000 | 0.50 |")
        #expect(lines[fsync + 4] == "| 16 | 1500 | 20.000 | 3000 | 10.000 | 0.50 |")
        #expect(
            lines.contains(
                "| quorum writes, c=16, >= 5 x etcd put | 6,000 vs 3,000 ops/s (Kvorum vs etcd) | 2.00 | no |"))
        #expect(lines.contains("| quorum reads, c=16, >= 0.5 x Redis GET | not measured | | |"))
    }

    /// With the binary protocol's runs (kvorum+binary), each peer row has
    /// a second ratio, and the goals of issue 15 are checked for both
    /// protocols, the single-client percentiles included.
    @Test func compareTableHasTheBinaryProtocol() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let results = try directory(
            root, "results",
            [
                "kvorum-W-16.json": report(throughput: 6000, p99: 3),
                "kvorum+binary-W-16.json": report(throughput: 12000, p99: 2),
                "kvorum-W-1.json": report(throughput: 3000, p50: 0.3, p99: 0.8),
                "kvorum+binary-W-1.json": report(throughput: 5000, p50: 0.2, p99: 0.4),
                "redis+wait-W-16.json": report(throughput: 30000, p99: 1),
                "redis-C-16.json": report(throughput: 40000, p99: 1),
                "kvorum-C-16.json": report(throughput: 8000, p99: 2),
            ])
        let lines = try tables(["compare", results.path])
        #expect(
            lines.first
                == "| target | workload | connections | ops/s | p50 ms | p99 ms | errors | Kvorum/peer | Kvorum binary/peer |"
        )
        #expect(lines.contains("| kvorum+binary | W | 16 | 12000 | 0.500 | 2.000 | 0 |  |  |"))
        #expect(lines.contains("| redis+wait | W | 16 | 30000 | 0.500 | 1.000 | 0 | 0.20 | 0.40 |"))
        #expect(lines.contains("| redis | C | 16 | 40000 | 0.500 | 1.000 | 0 | 0.20 |  |"))
        #expect(
            lines.contains(
                "| quorum writes, c=16, >= 0.5 x Redis SET+WAIT 1 (binary protocol) | 12,000 vs 30,000 ops/s (Kvorum binary protocol vs Redis+WAIT) | 0.40 | no |"
            ))
        #expect(lines.contains("| quorum reads, c=16, >= 0.4 x Redis GET (binary protocol) | not measured | | |"))
        #expect(lines.contains("| single-client quorum write p50 <= 0.25 ms (binary protocol) | 0.200 ms | | yes |"))
        #expect(lines.contains("| single-client quorum write p99.9 <= 1.5 ms (HTTP) | 0.800 ms | | yes |"))
        #expect(lines.contains("| single-client quorum write p50 <= 0.25 ms (HTTP) | 0.300 ms | | no |"))
    }

    /// bench/instructions.sh's figures: per repeat, each run's count less
    /// the idle rate times its length, the 2N run's less the N run's, over
    /// N; then the median and spread of the repeats, and bytes per operation.
    @Test func instructionsPerOperation() throws {
        let lines = try instructionTable(
            """
            repeat\tworkload\tconnections\toperations\tinstructions\tseconds\twrite_bytes\twchar
            1\tidle\t0\t0\t1000000\t2.0\t0\t1000
            1\tW\t1\t100\t6000000\t2.0\t40960\t60000
            1\tW\t1\t200\t11000000\t4.0\t81920\t110000
            2\tidle\t0\t0\t2000000\t2.0\t0\t0
            2\tW\t1\t200\t12000000\t2.0\t81920\t100000
            2\tW\t1\t100\t6000000\t1.0\t40960\t50000

            """)
        #expect(lines.contains("| W (quorum write) | 1 | 40,000, 50,000 | 45,000 | 22.2% | 410 | 495 |"))
        #expect(
            lines.contains(
                "Idle baseline, instructions per second of the three nodes: 500,000, 1,000,000 (one per repeat)."))
    }

    /// With COUNTER=cpu the count is CPU microseconds, named so and shown to
    /// a tenth.
    @Test func cpuTimePerOperation() throws {
        let lines = try instructionTable(
            """
            repeat\tworkload\tconnections\toperations\tcpu_us\tseconds\twrite_bytes\twchar
            1\tidle\t0\t0\t20000\t2.0\t0\t0
            1\tC\t16\t1000\t150000\t1.0\t0\t1000
            1\tC\t16\t2000\t265000\t1.5\t0\t2000

            """)
        #expect(lines.contains { $0.contains("CPU µs/op, each repeat") })
        #expect(lines.contains("| C (quorum read) | 16 | 110.0 | 110.0 | 0.0% | 0 | 1 |"))
        #expect(lines.contains("Idle baseline, CPU µs per second of the three nodes: 10,000 (one per repeat)."))
    }
}
