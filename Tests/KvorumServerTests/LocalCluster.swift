import Foundation
// Linux only, like `Paths.kvorum` (found through /proc/self/exe).
import Glibc
import KvorumClient
import KvorumTestKit

/// What went wrong in a `LocalCluster`: a node that would not start or stop,
/// or a condition that did not hold in time (with the tail of every log).
struct ClusterError: Error, CustomStringConvertible {
    var description: String
}

/// How a `LocalCluster` hands a node its settings.
enum LaunchStyle: Sendable, Equatable {
    /// Every setting as a flag; the node listens on its peer address.
    case flags
    /// Flags; the node listens on `0.0.0.0` and advertises its loopback peer address.
    case wildcardListen
    /// Flags; the node listens on its peer address and advertises another.
    case advertising(String)
    /// Nothing but `--config FILE`, a TOML file holding every setting.
    case configFile
}

/// One `kvorum node` of a `LocalCluster`: its name, ports and data directory.
/// The process itself is the cluster's business.
struct LocalNode: Sendable, CustomStringConvertible {
    let name: String
    let peerPort: Int
    let httpPort: Int
    let dataDirectory: URL
    var style = LaunchStyle.flags
    /// What a client of an HTTPS node presents (nil: the node serves plain HTTP).
    var credentials: ClientCredentials? = nil

    /// The peer address, also the node's address in the ring.
    var peer: String { "127.0.0.1:\(peerPort)" }
    var httpURL: URL { URL(string: "\(credentials == nil ? "http" : "https")://127.0.0.1:\(httpPort)")! }
    var log: URL { dataDirectory.appendingPathComponent("node.log") }
    /// The config file of a `.configFile` node.
    var configFile: URL { dataDirectory.appendingPathComponent("kvorum.toml") }
    var description: String { name }

    /// A client of the node's HTTP API.
    func client(timeout: Double = 5) -> KvorumClient {
        KvorumClient(baseURL: httpURL, timeout: timeout, credentials: credentials ?? ClientCredentials())
    }
}

/// Real `kvorum node` processes on loopback for tests: free ports, a fresh
/// temporary directory, logs in `DIR/nodeK/node.log`, bounded waits.
///
/// Call `shutdown()` in a `defer` right after `start`: it SIGKILLs every
/// process the cluster started and removes the directory. Every process is
/// also registered with `ProcessReaper`, which kills what is left when the
/// test process exits, and `deinit` shuts the cluster down as a last resort.
final class LocalCluster: @unchecked Sendable {
    /// The temporary directory holding every node's data directory.
    let root: URL
    private let lock = NSLock()
    private var started: [LocalNode] = []
    private var processes: [String: Process] = [:]
    private var isShutDown = false
    /// Flags every node of the cluster gets besides its own settings.
    private var nodeArguments: [String] = []
    /// Flags for one node by its name (e.g. its `--certs-dir`), asked at
    /// every launch.
    var perNodeArguments: @Sendable (String) throws -> [String] = { _ in [] }
    /// The credentials of every node's clients when the nodes serve HTTPS.
    private var credentials: ClientCredentials?

    /// The nodes started so far, in order (node1 first).
    var nodes: [LocalNode] { lock.withLock { started } }

    private init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kvorum-server-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { shutdown() }

    /// Starts `count` nodes: node1 alone, then the others joining node1, and
    /// waits until every node lists all of them as members and is ready.
    /// `nodeArguments` are more flags for every node (e.g. `--sibling-limit 5`),
    /// `perNode` more flags for the node of a name; `credentials` are what
    /// clients present when those flags make the nodes serve HTTPS.
    static func start(
        nodes count: Int, timeout: Double = 30, nodeArguments: [String] = [], credentials: ClientCredentials? = nil,
        perNode: @escaping @Sendable (String) throws -> [String] = { _ in [] }
    ) async throws -> LocalCluster {
        let executable = Paths.kvorum
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ClusterError(description: "no kvorum executable at \(executable.path)")
        }
        let cluster = try LocalCluster()
        cluster.nodeArguments = nodeArguments
        cluster.perNodeArguments = perNode
        cluster.credentials = credentials
        do {
            let first = try await cluster.startExtra(joining: nil)
            for _ in 1..<count { try await cluster.startExtra(joining: first) }
            try await cluster.waitUntil("every node lists \(count) members", timeout: timeout) {
                try await cluster.everyNodeLists(count)
            }
        } catch {
            cluster.shutdown()
            throw error
        }
        return cluster
    }

    /// A cluster with no node yet, for tests that start each node themselves.
    static func empty() throws -> LocalCluster { try LocalCluster() }

    /// Whether every running node lists exactly `count` members and is
    /// ready (`/ready`: its JOIN answered, it can coordinate).
    func everyNodeLists(_ count: Int) async throws -> Bool {
        for node in nodes where isRunning(node) {
            let client = node.client(timeout: 2)
            guard try await client.members().count == count, try await client.ready().ready else { return false }
        }
        return true
    }

    /// Starts one more node, `node(K+1)`, on fresh ports, joining the
    /// cluster through `contact`'s peer address (none: it starts a cluster
    /// of its own), and waits until it answers `/health`.
    @discardableResult
    func startExtra(joining contact: LocalNode?, style: LaunchStyle = .flags) async throws -> LocalNode {
        let node: LocalNode = try lock.withLock {
            let used = Set(started.flatMap { [$0.peerPort, $0.httpPort] })
            let ports = try LoopbackPorts.allocate(2, excluding: used)
            let name = "node\(started.count + 1)"
            let node = LocalNode(
                name: name, peerPort: ports[0], httpPort: ports[1],
                dataDirectory: root.appendingPathComponent(name), style: style, credentials: credentials)
            started.append(node)
            return node
        }
        try FileManager.default.createDirectory(at: node.dataDirectory, withIntermediateDirectories: true)
        try await launch(node, joining: contact)
        return node
    }

    /// Starts a second process under `member`'s name, on fresh ports and
    /// with an empty data directory of its own, joining through `contact`:
    /// an operator's mistake the cluster must refuse. Waits until it answers
    /// `/health`. It is not one of `nodes`; `shutdown` stops it.
    func startImpostor(of member: LocalNode, joining contact: LocalNode) async throws -> LocalNode {
        let node: LocalNode = try lock.withLock {
            let used = Set(started.flatMap { [$0.peerPort, $0.httpPort] })
            let ports = try LoopbackPorts.allocate(2, excluding: used)
            return LocalNode(
                name: member.name, peerPort: ports[0], httpPort: ports[1],
                dataDirectory: root.appendingPathComponent(member.name + "-impostor"), style: member.style,
                credentials: credentials)
        }
        try FileManager.default.createDirectory(at: node.dataDirectory, withIntermediateDirectories: true)
        try await launch(node, joining: contact)
        return node
    }

    /// Starts a new node, `node(K+1)`, on the peer port of `dead` (which must
    /// not run) with a fresh HTTP port and an empty data directory, joining
    /// through `contact`: a host that replaces a dead one under a new name
    /// and takes over its address. Waits until it answers `/health`.
    @discardableResult
    func startReplacement(of dead: LocalNode, joining contact: LocalNode) async throws -> LocalNode {
        guard !isRunning(dead) else { throw ClusterError(description: "\(dead) is still running") }
        let node: LocalNode = try lock.withLock {
            let used = Set(started.flatMap { [$0.peerPort, $0.httpPort] })
            let name = "node\(started.count + 1)"
            let node = LocalNode(
                name: name, peerPort: dead.peerPort, httpPort: try LoopbackPorts.allocate(1, excluding: used)[0],
                dataDirectory: root.appendingPathComponent(name), style: dead.style, credentials: credentials)
            started.append(node)
            return node
        }
        try FileManager.default.createDirectory(at: node.dataDirectory, withIntermediateDirectories: true)
        try await launch(node, joining: contact)
        return node
    }

    /// Starts a stopped node again on its ports and data directory, without
    /// `--join`: it resumes with the membership it stored. Waits until it
    /// answers `/health`.
    func restart(_ node: LocalNode) async throws {
        guard !isRunning(node) else { throw ClusterError(description: "\(node) is still running") }
        try await launch(node, joining: nil)
    }

    /// Starts a stopped node again on its data directory but on fresh
    /// ports, as a host replaced with the old one's disk, without `--join`.
    /// Waits until it answers `/health`.
    ///
    /// - Returns: the node with its new ports (it replaces the old one in `nodes`).
    func move(_ node: LocalNode) async throws -> LocalNode {
        guard !isRunning(node) else { throw ClusterError(description: "\(node) is still running") }
        let moved: LocalNode = try lock.withLock {
            let used = Set(started.flatMap { [$0.peerPort, $0.httpPort] })
            let ports = try LoopbackPorts.allocate(2, excluding: used)
            let moved = LocalNode(
                name: node.name, peerPort: ports[0], httpPort: ports[1], dataDirectory: node.dataDirectory,
                style: node.style, credentials: credentials)
            started = started.map { $0.name == node.name ? moved : $0 }
            return moved
        }
        try await launch(moved, joining: nil)
        return moved
    }

    /// Whether the node's process runs.
    func isRunning(_ node: LocalNode) -> Bool {
        lock.withLock { processes[node.dataDirectory.path]?.isRunning ?? false }
    }

    /// `kill -9` the node and reap it.
    func kill9(_ node: LocalNode) {
        guard let process = lock.withLock({ processes[node.dataDirectory.path] }) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        ProcessReaper.forget(process)
    }

    /// Sends `signal` to the node's process (e.g. SIGSTOP to freeze it with
    /// its connections open, SIGCONT to let it go on).
    func signal(_ node: LocalNode, _ signal: Int32) {
        guard let process = lock.withLock({ processes[node.dataDirectory.path] }), process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Sends SIGTERM and waits up to `timeout` seconds for the node to exit.
    ///
    /// - Returns: its exit status.
    /// - Throws: if it did not exit in time (it is killed then) or died of a signal.
    @discardableResult
    func terminate(_ node: LocalNode, timeout: Double = 10) async throws -> Int32 {
        guard let process = lock.withLock({ processes[node.dataDirectory.path] }) else {
            throw ClusterError(description: "\(node) was never started")
        }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(timeout)
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill9(node)
            throw ClusterError(
                description: "\(node) did not exit within \(timeout) s of SIGTERM\n\(logTail(of: node))")
        }
        process.waitUntilExit()
        ProcessReaper.forget(process)
        guard process.terminationReason == .exit else {
            throw ClusterError(
                description: "\(node) died of signal \(process.terminationStatus)\n\(logTail(of: node))")
        }
        return process.terminationStatus
    }

    /// Polls `condition` every 50 ms until it holds. A condition that throws
    /// has not held yet (its last error is reported).
    ///
    /// - Throws: after `timeout` seconds, naming `description`, the last
    ///   error and the tail of every node's log.
    func waitUntil(_ description: String, timeout: Double, condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        var lastError: (any Error)?
        while true {
            do {
                if try await condition() { return }
                lastError = nil
            } catch {
                lastError = error
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let cause = lastError.map { " (last error: \($0))" } ?? ""
        throw ClusterError(
            description: "timed out after \(timeout) s waiting until \(description)\(cause)\n"
                + nodes.map { logTail(of: $0) }.joined(separator: "\n"))
    }

    /// The last lines of the node's log, for failure messages.
    func logTail(of node: LocalNode, lines: Int = 15) -> String {
        let text = (try? String(contentsOf: node.log, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
        return "--- \(node.log.path) (last lines):\n" + tail.joined(separator: "\n")
    }

    /// SIGKILLs and reaps every process the cluster started and removes its
    /// directory. Synchronous, so it can run in a `defer`; safe to repeat.
    func shutdown() {
        let launched: [Process]? = lock.withLock {
            defer { isShutDown = true }
            return isShutDown ? nil : Array(processes.values)
        }
        guard let launched else { return }
        for process in launched {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            ProcessReaper.forget(process)
        }
        try? FileManager.default.removeItem(at: root)
    }

    /// Runs `kvorum node` for `node` (joining `contact`, if any), output
    /// appended to its log, and waits until it answers `/health` (or exits,
    /// or 20 s pass).
    private func launch(_ node: LocalNode, joining contact: LocalNode?) async throws {
        let arguments = try Self.arguments(for: node, joining: contact) + nodeArguments + perNodeArguments(node.name)
        let child = try LoggedKvorum(arguments, logTo: node.log)
        let process = child.process
        try lock.withLock {
            guard !isShutDown else { throw ClusterError(description: "the cluster is shut down") }
            try process.run()
            ProcessReaper.register(process)
            processes[node.dataDirectory.path] = process
        }
        try child.log.close()
        let client = node.client(timeout: 1)
        try await waitUntil("\(node) answers /health", timeout: 20) {
            guard process.isRunning else { return true }
            return try await client.health().status == "ok"
        }
        guard process.isRunning else {
            throw ClusterError(
                description: "\(node) exited with status \(process.terminationStatus)\n\(logTail(of: node))")
        }
    }
}

extension LocalCluster {
    /// The command line of `node` in its launch style; a `.configFile`
    /// node's file is written here.
    fileprivate static func arguments(for node: LocalNode, joining contact: LocalNode?) throws -> [String] {
        var settings = [
            ("name", node.name), ("listen", node.peer), ("http", "127.0.0.1:\(node.httpPort)"),
            ("data-dir", node.dataDirectory.path),
        ]
        switch node.style {
        case .wildcardListen:
            settings[1] = ("listen", "0.0.0.0:\(node.peerPort)")
            settings.append(("advertise", node.peer))
        case .advertising(let address):
            settings.append(("advertise", address))
        case .flags, .configFile:
            break
        }
        if let contact { settings.append(("join", contact.peer)) }
        guard node.style == .configFile else {
            // Listening or advertising off loopback needs TLS or --insecure.
            let exposed = node.style != .flags ? ["--insecure"] : []
            return ["node"] + settings.flatMap { ["--\($0.0)", $0.1] } + exposed
        }
        let toml = settings.map { "\($0.0) = \"\($0.1)\"\n" }.joined()
        try Data(toml.utf8).write(to: node.configFile)
        return ["node", "--config", node.configFile.path]
    }
}

/// Every node process the tests started and have not reaped yet; whatever
/// is left when the test process exits is killed then.
enum ProcessReaper {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var running: [ObjectIdentifier: Process] = [:]
    private static let installed: Void = { atexit { ProcessReaper.killAll() } }()

    static func register(_ process: Process) {
        _ = installed
        lock.withLock { running[ObjectIdentifier(process)] = process }
    }

    static func forget(_ process: Process) {
        _ = lock.withLock { running.removeValue(forKey: ObjectIdentifier(process)) }
    }

    private static func killAll() {
        for process in lock.withLock({ Array(running.values) }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

/// A plain TCP connection to a port on 127.0.0.1, for bytes that no
/// well-behaved client sends. Every send and receive waits at most
/// `timeout` seconds.
final class RawConnection {
    private let descriptor: Int32

    init(port: Int, timeout: Double = 5) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClusterError(description: "socket: errno \(errno)") }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            let code = errno
            close(descriptor)
            throw ClusterError(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
    }

    deinit { close(descriptor) }

    /// Sends every byte, or as many as the peer takes before it closes.
    ///
    /// - Returns: whether all of them were sent.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Whether something (bytes, or the close) arrives within `seconds`.
    func isReadable(within seconds: Double) -> Bool {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&waiting, 1, Int32(seconds * 1000)) == 1
    }

    /// What arrives next: at least one byte, or none when the peer closed
    /// (or reset) the connection or the timeout passed.
    func receiveSome() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(chunk[..<count]) }
            if count == 0 || errno != EINTR { return [] }
        }
    }

    /// Reads until the peer closes the connection, `limit` bytes arrive or
    /// the timeout passes.
    ///
    /// - Returns: what arrived, and whether the peer closed (or reset) the connection.
    func receiveUntilClosed(limit: Int = 1 << 20) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while received.count < limit {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += chunk[..<count]
            } else if count == 0 || errno == ECONNRESET {
                return (received, true)
            } else if errno != EINTR {
                return (received, false)
            }
        }
        return (received, false)
    }

    /// Sends one raw HTTP request and reads the answer up to the close.
    ///
    /// - Returns: the status of the answer (nil when none came), its text,
    ///   and whether the server closed the connection.
    static func http(port: Int, _ request: [UInt8]) throws -> (status: Int?, text: String, closed: Bool) {
        let connection = try RawConnection(port: port)
        connection.send(request)
        let (bytes, closed) = connection.receiveUntilClosed()
        let text = String(decoding: bytes, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }.split(separator: " ")
        let status = statusLine.count >= 2 && statusLine[0].hasPrefix("HTTP/") ? Int(statusLine[1]) : nil
        return (status, text, closed)
    }
}

/// A plain TCP listener on a free port of 127.0.0.1, standing in for a peer:
/// it reads what a node sends when it dials.
final class RawListener {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClusterError(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 4) == 0
                    && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            close(descriptor)
            throw ClusterError(description: "listen on 127.0.0.1: errno \(code)")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }

    /// Waits up to `timeout` seconds for a connection and reads its first
    /// peer frame (a 4-byte big-endian length, then the payload).
    ///
    /// - Returns: the frame's payload.
    func firstFrame(timeout: Double) throws -> [UInt8] {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, Int32(timeout * 1000)) == 1 else {
            throw ClusterError(description: "nobody connected to 127.0.0.1:\(port) within \(timeout) s")
        }
        let connection = accept(descriptor, nil, nil)
        guard connection >= 0 else { throw ClusterError(description: "accept: errno \(errno)") }
        defer { close(connection) }
        var wait = timeval(tv_sec: Int(timeout.rounded(.up)), tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        func read(_ count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var offset = 0
            while offset < count {
                let got = bytes[offset...].withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                guard got > 0 else { throw ClusterError(description: "the connection ended after \(offset) bytes") }
                offset += got
            }
            return bytes
        }
        let length = try read(4).reduce(0) { $0 << 8 | Int($1) }
        return try read(length)
    }
}
