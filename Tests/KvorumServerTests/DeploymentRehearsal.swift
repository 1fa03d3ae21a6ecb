import Foundation
import Glibc
import KvorumClient
import KvorumTestKit

/// Reads the lists of the deployment files in deploy/ (compose.yaml,
/// kubernetes/statefulset.yaml), written in a fixed style rather than read
/// with a YAML library: a key alone on its line (`command:`), then its items
/// one a line (`- item`) at one indent, an item `- |` followed by a block of
/// more-indented lines (a shell script).
struct DeploymentFile {
    let lines: [Substring]

    init(_ url: URL) throws {
        lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The lines of the block under `key` (a line `KEY:` at `indent`
    /// spaces), up to the next line at that indent or less.
    func block(_ key: String, indent: Int) -> DeploymentFile? {
        let header = String(repeating: " ", count: indent) + key + ":"
        guard let start = lines.firstIndex(where: { $0 == header }) else { return nil }
        let rest = lines[(start + 1)...]
        let end = rest.firstIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty && Self.indent(of: $0) <= indent }
        return DeploymentFile(lines: Array(rest[..<(end ?? rest.endIndex)]))
    }

    /// The items of the first list under a line `KEY:` (at any indent):
    /// each `- item` unquoted, a `- |` block as its lines dedented.
    func list(_ key: String) -> [String]? {
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == key + ":" }) else {
            return nil
        }
        var items: [String] = []
        var index = start + 1
        guard index < lines.count else { return nil }
        let indent = Self.indent(of: lines[index])
        while index < lines.count, Self.indent(of: lines[index]) == indent,
            lines[index].dropFirst(indent).hasPrefix("- ")
        {
            let item = String(lines[index].dropFirst(indent + 2))
            index += 1
            if item == "|" {
                var script: [String] = []
                while index < lines.count, Self.indent(of: lines[index]) > indent {
                    script.append(String(lines[index].dropFirst(indent + 2)))
                    index += 1
                }
                items.append(script.joined(separator: "\n"))
            } else {
                items.append(item.hasPrefix("\"") && item.hasSuffix("\"") ? String(item.dropFirst().dropLast()) : item)
            }
        }
        return items.isEmpty ? nil : items
    }

    /// The value of `KEY: value` on a line of its own (the first one).
    func value(_ key: String) -> String? {
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(key + ": ") { return String(trimmed.dropFirst(key.count + 2)) }
        }
        return nil
    }

    /// The lines after the first line `KEY:` (at any indent), to the end.
    func section(after key: String) -> DeploymentFile? {
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == key + ":" }) else {
            return nil
        }
        return DeploymentFile(lines: Array(lines[(start + 1)...]))
    }

    private init(lines: [Substring]) { self.lines = lines }

    private static func indent(of line: Substring) -> Int {
        line.prefix { $0 == " " }.count
    }
}

/// Runs a deployment's commands as real processes on this machine: each
/// host name becomes a loopback address of its own (all of 127/8 is
/// loopback on Linux), each of its ports a free port, each mounted path a
/// directory. Kills what it started in `shutdown()`.
final class DeploymentRehearsal: @unchecked Sendable {
    /// The temporary directory holding the volumes and logs.
    let root: URL
    private let lock = NSLock()
    private var addresses: [String: String] = [:]
    private var ports: [String: Int] = [:]
    private var processes: [Process] = []
    private var logs: [URL] = []
    private var isShutDown = false

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("kvorum-deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { shutdown() }

    /// Gives `host` the loopback address `127.0.0.N`.
    func host(_ host: String, at address: String) {
        lock.withLock { addresses[host] = address }
    }

    /// The loopback address of `host`.
    func address(of host: String) -> String? { lock.withLock { addresses[host] } }

    /// The free port standing for `host`'s `port`, found on first use.
    func port(_ port: Int, of host: String) throws -> Int {
        try lock.withLock {
            if let found = ports["\(host):\(port)"] { return found }
            let found = try LoopbackPorts.allocate(1, excluding: Set(ports.values))[0]
            ports["\(host):\(port)"] = found
            return found
        }
    }

    /// Arguments (or the words of a script line) as they run here, for
    /// the container of `host`: `HOST:PORT` of a known host and
    /// `0.0.0.0:PORT` (the container's own) become its loopback address and
    /// free port, a known host name after `--host` its address, and a path
    /// under a mount point the directory standing for it (`mounts`: mount
    /// point → directory).
    func substitute(_ words: [String], in host: String, mounts: [String: URL]) throws -> [String] {
        var previous = ""
        return try words.map { word in
            defer { previous = word }
            if previous == "--host", let address = address(of: word) { return address }
            if let colon = word.lastIndex(of: ":"), let port = Int(word[word.index(after: colon)...]) {
                let named = String(word[..<colon])
                let target = named == "0.0.0.0" ? host : named
                if let address = address(of: target) { return "\(address):\(try self.port(port, of: target))" }
            }
            for (point, directory) in mounts.sorted(by: { $0.key.count > $1.key.count })
            where word == point || word.hasPrefix(point + "/") {
                return directory.path + word.dropFirst(point.count)
            }
            return word
        }
    }

    /// A shell script with the words of every line substituted (words are
    /// separated by single spaces in the files).
    func substitute(script: String, in host: String, mounts: [String: URL]) throws -> String {
        try script.split(separator: "\n").map { line in
            try substitute(line.split(separator: " ").map(String.init), in: host, mounts: mounts).joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Runs `script` with `sh -ec`, `kvorum` on the PATH, and waits for it.
    ///
    /// - Throws: when it fails, with its output.
    func runScript(_ script: String, environment: [String: String] = [:]) throws {
        let path =
            Paths.kvorum.deletingLastPathComponent().path + ":"
            + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"), ["-ec", script], environment: environment.merging(["PATH": path]) { $1 },
            deadline: 60)
        guard run.status == 0, !run.timedOut else {
            throw ClusterError(description: "the script failed (\(run.status)):\n\(script)\n\(run.stdout)\(run.stderr)")
        }
    }

    /// Starts `kvorum ARGUMENTS` as `name`, its output in `ROOT/NAME.log`.
    func start(_ name: String, _ arguments: [String]) throws -> Process {
        let log = root.appendingPathComponent("\(name).log")
        let child = try LoggedKvorum(arguments, logTo: log)
        let process = child.process
        try lock.withLock {
            try process.run()
            ProcessReaper.register(process)
            processes.append(process)
            logs.append(log)
        }
        try child.log.close()
        return process
    }

    /// Polls `condition` every 50 ms until it holds (a throw: not yet).
    ///
    /// - Throws: after `timeout` seconds, with the last error and every log's tail.
    func waitUntil(_ description: String, timeout: Double, condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do {
                if try await condition() { return }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ClusterError(
            description: "timed out after \(timeout) s waiting until \(description)"
                + (lastError.map { " (last error: \($0))" } ?? "") + "\n" + logTails())
    }

    /// Starts `kvorum ARGUMENTS` as `name` on `host` and waits until it
    /// answers `/health` over HTTPS on the host's address at the port that
    /// stands for `httpPort` there.
    ///
    /// - Returns: a client of the node.
    func startNode(
        _ name: String, _ arguments: [String], host: String, httpPort: Int, credentials: ClientCredentials
    ) async throws -> KvorumClient {
        let process = try start(name, arguments)
        let port = try port(httpPort, of: host)
        let client = KvorumClient(
            baseURL: URL(string: "https://\(address(of: host)!):\(port)")!, timeout: 2, credentials: credentials)
        try await waitUntilHealthy(process, client, name: name)
        return client
    }

    /// Waits until every one of `clients` lists `count` members.
    func waitForMembers(_ count: Int, on clients: [KvorumClient]) async throws {
        try await waitUntil("every node lists \(count) members", timeout: 60) {
            for client in clients where try await client.members().count != count { return false }
            return true
        }
    }

    /// Waits until `process` answers `/health` through `client`.
    ///
    /// - Throws: when it exits first (a flag it does not accept, a setting
    ///   it refuses), with the logs.
    func waitUntilHealthy(_ process: Process, _ client: KvorumClient, name: String) async throws {
        try await waitUntil("\(name) answers /health", timeout: 30) {
            guard process.isRunning else { return true }
            return try await client.health().status == "ok"
        }
        guard process.isRunning else {
            throw ClusterError(description: "\(name) exited with status \(process.terminationStatus)\n" + logTails())
        }
    }

    /// The last lines of every log.
    func logTails() -> String {
        lock.withLock { logs }.map { log in
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return "--- \(log.lastPathComponent):\n" + text.split(separator: "\n").suffix(12).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// SIGKILLs and reaps every process started, and removes the directory.
    func shutdown() {
        let started: [Process]? = lock.withLock {
            defer { isShutDown = true }
            return isShutDown ? nil : processes
        }
        guard let started else { return }
        for process in started {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            ProcessReaper.forget(process)
        }
        try? FileManager.default.removeItem(at: root)
    }
}
