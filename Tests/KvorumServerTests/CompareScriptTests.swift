import Foundation
import KvorumTestKit
import Testing

/// `bench/compare.sh`'s check for an installable package, run by bash with a
/// fake `apt-cache` on the PATH: the check must hold up under `set -o
/// pipefail` when the policy is long (a `| grep -q` pipeline failed there
/// with SIGPIPE and etcd was skipped as "not installable" while it was).
struct CompareScriptTests {
    /// Runs `installable PACKAGE` from the script with `apt-cache` printing
    /// `policy`; the exit status says whether the script would install it.
    private func installable(policy: String) throws -> Int32 {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let policyFile = directory.appendingPathComponent("policy")
        try policy.write(to: policyFile, atomically: true, encoding: .utf8)
        let fake = directory.appendingPathComponent("apt-cache")
        try "#!/bin/sh\ncat '\(policyFile.path)'\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let script = Paths.repository.appendingPathComponent("bench/compare.sh").path
        let result = try ChildProcess.run(
            URL(fileURLWithPath: "/bin/bash"),
            [
                "-c",
                "set -euo pipefail; eval \"$(sed -n '/^installable() {/,/^}/p' '\(script)')\"; "
                    + "installable etcd-server",
            ],
            environment: ["PATH": directory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")],
            deadline: 20)
        return result.status
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
}
