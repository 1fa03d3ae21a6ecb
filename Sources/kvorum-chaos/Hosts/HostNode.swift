import Foundation

import struct KvorumBench.Endpoint

#if canImport(Glibc)
    import Glibc
#endif

/// The `kvorum node` process of one test host: started inside the host's
/// namespace, killed, paused, resumed, restarted on the same data, or wiped
/// and brought back as a replacement. Only the process it started is ever
/// signalled.
final class HostNode {
    static let peerPort = 7700
    static let httpPort = 8700

    let host: TestHost
    let dataDirectory: String
    let logPath: String
    private let kvorum: String
    private let durability: NodeDurability
    /// Certificates and credentials (`--tls`), or nil to run it `--insecure`.
    private let security: ClusterSecurity?
    private var process: Process?
    private(set) var paused = false
    private let lock = NSLock()
    private var currentName: String
    private var replacements = 0

    /// The name the node runs under: the host's name, and after the host was
    /// wiped and replaced, `hNrK` (a replacement never reuses a name, see
    /// `startAsReplacement`). Read from any thread.
    var name: String { lock.withLock { currentName } }

    /// The node's peer address (also its address in the ring).
    var peerAddress: String { "\(host.address):\(Self.peerPort)" }
    /// Where its clients connect.
    var http: Endpoint { Endpoint(host: host.address, port: Self.httpPort) }
    var isRunning: Bool { process?.isRunning == true }

    init(
        host: TestHost, workDirectory: String, kvorum: String, durability: NodeDurability,
        security: ClusterSecurity? = nil
    ) {
        self.host = host
        dataDirectory = "\(workDirectory)/data/\(host.name)"
        logPath = "\(workDirectory)/logs/\(host.name).log"
        self.kvorum = kvorum
        self.durability = durability
        self.security = security
        currentName = host.name
    }

    /// Starts the node; with `join`, it joins that node's cluster. It listens
    /// for peers on every interface of its host and advertises its host's
    /// address, as a node deployed across hosts does (docs/deploy.md). Its
    /// output is appended to `logPath`.
    func start(joining join: HostNode?) throws {
        precondition(!isRunning, "\(name) is already running")
        let files = FileManager.default
        try files.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try files.createDirectory(
            atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !files.fileExists(atPath: logPath) { files.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw KitError.failed("cannot write \(logPath)")
        }
        log.seekToEndOfFile()
        guard let ip = SystemCommand.locate("ip") else { throw KitError.unsupported("iproute2's `ip` is missing") }
        var arguments = [
            "netns", "exec", host.namespace, kvorum, "node", "--name", name,
            "--listen", "0.0.0.0:\(Self.peerPort)", "--advertise", peerAddress, "--http",
            "\(host.address):\(Self.httpPort)",
            "--data-dir", dataDirectory, "--durability", durability.rawValue,
        ]
        if let join { arguments += ["--join", join.peerAddress] }
        arguments += try securityArguments()
        let process = Process()
        process.executableURL = ip
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        paused = false
    }

    /// `--certs-dir` with a certificate for the node's current name and its
    /// host's address (issued on first use) and the config listing the
    /// kit's token, or `--insecure`: the node listens off loopback, which it
    /// refuses to do without either.
    private func securityArguments() throws -> [String] {
        guard let security else { return ["--insecure"] }
        return try security.nodeArguments(name: name, host: host.address)
    }

    /// A client of this node's HTTP API (HTTPS with the kit's token under `--tls`).
    func api(timeout: Double) -> NodeAPI {
        NodeAPI(http, timeout: timeout, security: security?.client ?? .plain)
    }

    /// `kill -9`: the process dies at once, its store as it was.
    func kill() {
        guard let process, process.isRunning else { return }
        signal(SIGKILL)
        process.waitUntilExit()
        paused = false
    }

    /// SIGSTOP: the process freezes; its sockets stay open.
    func pause() {
        guard isRunning, !paused else { return }
        signal(SIGSTOP)
        paused = true
    }

    /// SIGCONT after `pause()`.
    func resume() {
        guard isRunning, paused else { return }
        signal(SIGCONT)
        paused = false
    }

    /// A clean stop (SIGTERM), then SIGKILL if it has not exited within
    /// `grace` seconds.
    func stop(grace: Double = 10) {
        guard let process, process.isRunning else { return }
        resume()
        signal(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        kill()
    }

    /// Brings the host back as a replacement for its dead node: empty data
    /// and a new name, joining through `contact`, as docs/deploy.md tells an
    /// operator to (the old name must have been removed from the ring; a
    /// fresh store under the old name could reuse the old node's dots).
    func startAsReplacement(joining contact: HostNode) throws {
        try wipe()
        replacements += 1
        lock.withLock { currentName = "\(host.name)r\(replacements)" }
        try start(joining: contact)
    }

    /// Deletes the node's data (the process must be stopped).
    func wipe() throws {
        precondition(!isRunning, "wipe \(name) only while it is down")
        if FileManager.default.fileExists(atPath: dataDirectory) {
            try FileManager.default.removeItem(atPath: dataDirectory)
        }
    }

    private func signal(_ number: Int32) {
        guard let pid = process?.processIdentifier, pid > 0 else { return }
        _ = Glibc.kill(pid, number)
    }
}
