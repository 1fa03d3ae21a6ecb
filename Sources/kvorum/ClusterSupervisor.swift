import Foundation
import KvorumClient
import KvorumServer

#if canImport(Glibc)
    import Glibc
#endif

/// What the supervisor of a local cluster reacts to, one at a time.
private enum ClusterEvent: Sendable {
    /// SIGINT, SIGTERM or SIGHUP arrived.
    case signal(Int32)
    /// The child of `nodes[index]` exited with a wait status.
    case exited(index: Int, status: Int32)
    /// node1 answers `/ready`: the others can join it.
    case firstNodeServes
    /// Every node lists every node as a member and answers `/ready`.
    case formed
    /// The nodes made no progress for the stall limit; the text says what
    /// each node saw.
    case didNotForm(String)
    /// The nodes had their time to stop after SIGTERM.
    case stopDeadlinePassed
}

/// Whether starting nodes still make progress: one more of them is ready, or
/// their logs grow (a node converting a large store logs every 100,000
/// records, long before its HTTP port opens).
struct StartupProgress {
    private let logs: [String]
    private var sizes: [Int]
    private var ready = 0
    private var last: ContinuousClock.Instant

    init(logs: [String], now: ContinuousClock.Instant) {
        self.logs = logs
        sizes = logs.map(Self.size(of:))
        last = now
    }

    /// Notes how many nodes are ready and the logs' sizes at `now`; more
    /// ready nodes or a grown log is progress.
    mutating func observe(ready: Int, now: ContinuousClock.Instant) {
        let sizes = logs.map(Self.size(of:))
        if sizes != self.sizes || ready > self.ready { last = now }
        self.sizes = sizes
        self.ready = max(ready, self.ready)
    }

    /// Whether nothing changed for `limit` before `now`.
    func stalled(at now: ContinuousClock.Instant, limit: Duration) -> Bool { now - last > limit }

    private static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }
}

/// Starts the node processes of `kvorum cluster up`, waits until they form
/// one cluster, then watches them until a signal stops them all. Everything
/// it reacts to (signals, children exiting, the formation watcher) arrives
/// as an event on one stream, handled in order on one task.
final class ClusterSupervisor {
    private enum Phase { case starting, serving, stopping }

    private var nodes: [ClusterFile.Node]
    private let directory: URL
    private let displayDirectory: String
    private let durability: String?
    private let defaultLocation: Bool
    /// What `--secure` made: certificates, config and the record's credentials.
    private let security: LocalClusterSecurity?
    /// Node K's binary protocol listens on 127.0.0.1:binaryBasePort+K-1; nil: off.
    private let binaryBasePort: Int?
    private let executable = Processes.currentExecutable()
    /// How the line that `cluster up` writes into a node's log before each
    /// start begins.
    private static let banner = "=== kvorum cluster up"
    private let events: AsyncStream<ClusterEvent>
    private let sink: AsyncStream<ClusterEvent>.Continuation
    /// Indices of the nodes whose processes have not exited.
    private var running: Set<Int> = []
    private var phase = Phase.starting
    private var succeeded = true

    /// A supervisor of the planned nodes (their `pid`s are filled in as
    /// they start). `displayDirectory` is the data directory as the user
    /// wrote it; `defaultLocation` says whether it is the one the CLI finds
    /// by itself (so the printed examples need no --node). With `security`,
    /// each node gets its `--certs-dir` and the shared `--config`.
    init(
        plan: [ClusterFile.Node], directory: URL, displayDirectory: String, durability: String?, defaultLocation: Bool,
        security: LocalClusterSecurity? = nil, binaryBasePort: Int? = nil
    ) {
        nodes = plan
        self.directory = directory
        self.displayDirectory = displayDirectory
        self.durability = durability
        self.defaultLocation = defaultLocation
        self.security = security
        self.binaryBasePort = binaryBasePort
        (events, sink) = AsyncStream.makeStream(of: ClusterEvent.self)
    }

    /// Runs the cluster until it is stopped.
    ///
    /// - Returns: true if it ran until a signal stopped it; false if it did
    ///   not form in time or every node exited by itself.
    func run() async throws -> Bool {
        let signalSources = handleSignals()
        try start(0)
        writeRecord()
        let (plan, sink) = (nodes, sink)
        let credentials = security?.record.credentials ?? ClientCredentials()
        let watcher = Task { await ClusterSupervisor.awaitFormation(of: plan, credentials: credentials, sink) }
        for await event in events {
            handle(event)
            if phase == .stopping && running.isEmpty { break }
        }
        watcher.cancel()
        for source in signalSources { source.cancel() }
        return succeeded
    }

    private func handle(_ event: ClusterEvent) {
        switch event {
        case .signal:
            if phase == .stopping {
                Console.say("Killing the nodes that are still running.")
                for index in running { kill(nodes[index].pid, SIGKILL) }
            } else {
                Console.say("\nStopping \(running.count) node(s)… (Ctrl-C again kills them)")
                stopAll()
            }
        case .exited(let index, let status):
            running.remove(index)
            let node = nodes[index]
            if phase == .stopping {
                Console.say("\(node.name) stopped (\(Processes.describe(waitStatus: status)))")
                return
            }
            Console.error(
                "\(node.name) (pid \(node.pid)) \(Processes.describe(waitStatus: status)); \(logTail(of: node))")
            if phase == .starting {
                fail("the cluster did not start")
            } else if running.isEmpty {
                fail("every node has exited")
            }
        case .firstNodeServes:
            guard phase == .starting else { return }
            do {
                for index in nodes.indices.dropFirst() { try start(index) }
                writeRecord()
            } catch {
                fail("\(error)")
            }
        case .formed:
            guard phase == .starting else { return }
            phase = .serving
            printWelcome()
        case .didNotForm(let views):
            guard phase == .starting else { return }
            Console.error(
                "The nodes made no progress towards one cluster for \(Int(ClusterUp.startupStallLimit)) s:\n\(views)\n"
                    + "Logs: \(displayDirectory)/nodeK/node.log")
            fail("the cluster did not start")
        case .stopDeadlinePassed:
            for index in running {
                Console.error("\(nodes[index].name) did not stop within \(Int(ClusterUp.stopDeadline)) s; killing it")
                kill(nodes[index].pid, SIGKILL)
            }
        }
    }

    /// Starts node `index`: node1 alone, the others joining node1.
    private func start(_ index: Int) throws {
        let node = nodes[index]
        var arguments = [
            "node", "--name", node.name, "--listen", node.peer, "--http", "127.0.0.1:\(node.httpPort ?? 0)",
            "--data-dir", node.dataDir,
        ]
        if index > 0 { arguments += ["--join", nodes[0].peer] }
        if let durability { arguments += ["--durability", durability] }
        if let binaryBasePort { arguments += ["--binary-listen", "127.0.0.1:\(binaryBasePort + index)"] }
        if let security, let certsDir = security.certsDirs[node.name] {
            arguments += ["--certs-dir", certsDir, "--config", security.configFile]
        }
        let log = node.dataDir + "/node.log"
        let banner = "\(Self.banner) \(Date()): kvorum \(arguments.joined(separator: " "))\n"
        let descriptor = open(log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if descriptor >= 0 { FileHandle(fileDescriptor: descriptor, closeOnDealloc: true).write(Data(banner.utf8)) }
        // Every setting is a flag here: a KVORUM_ADVERTISE or KVORUM_CONFIG
        // meant for a deployed node must not reach the local cluster's nodes.
        let environment = ServerSettings.withoutNodeSettings(ProcessInfo.processInfo.environment)
        let pid = try Processes.spawn(executable, arguments, environment: environment, log: log)
        nodes[index].pid = pid
        running.insert(index)
        Processes.watch(pid) { [sink] status in sink.yield(.exited(index: index, status: status)) }
    }

    /// Records the nodes and their pids in DIR/cluster.json.
    private func writeRecord() {
        do {
            try ClusterFile(nodes: nodes, supervisor: getpid(), security: security?.record).write(to: directory)
        } catch {
            Console.error("warning: cannot write \(ClusterFile.location(in: directory).path): \(error)")
        }
    }

    /// Reports why the cluster stops and stops it; the exit status will be 1.
    private func fail(_ reason: String) {
        Console.error("error: \(reason); stopping the nodes")
        succeeded = false
        stopAll()
    }

    /// Sends SIGTERM to every running node and arms the kill deadline.
    private func stopAll() {
        phase = .stopping
        for index in running { kill(nodes[index].pid, SIGTERM) }
        Task { [sink] in
            try? await Task.sleep(for: .seconds(ClusterUp.stopDeadline))
            sink.yield(.stopDeadlinePassed)
        }
    }

    /// Ignores SIGINT, SIGTERM and SIGHUP and turns each into an event.
    private func handleSignals() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [sink] in sink.yield(.signal(number)) }
            source.resume()
            return source
        }
    }

    /// Where a node's log is and its last lines, to explain an exit.
    private func logTail(of node: ClusterFile.Node) -> String {
        let lines = Processes.tail(node.dataDir + "/node.log", lines: 10, after: Self.banner)
        return "last lines of \(displayDirectory)/\(node.name)/node.log:\n"
            + lines.map { "    " + $0 }.joined(separator: "\n")
    }

    /// Waits for node1 to be ready (`/ready`), reports it, then waits until
    /// every node lists all of them as members and is ready. It gives up
    /// only when the nodes make no progress for the stall limit: no answer
    /// changes and no node's log grows. While it waits, it reports every few
    /// seconds what each node that is not there yet last said.
    private static func awaitFormation(
        of nodes: [ClusterFile.Node], credentials: ClientCredentials, _ sink: AsyncStream<ClusterEvent>.Continuation
    ) async {
        let start = ContinuousClock.now
        var progress = StartupProgress(logs: nodes.map { $0.dataDir + "/node.log" }, now: start)
        var lastReport = start
        let clients = nodes.map {
            KvorumClient(baseURL: URL(string: $0.http)!, timeout: 1, credentials: credentials)
        }
        var views = [String](repeating: "no answer yet", count: nodes.count)
        var ready = [Bool](repeating: false, count: nodes.count)
        var firstServes = false
        while !Task.isCancelled {
            if !firstServes {
                do {
                    let readiness = try await clients[0].ready()
                    if readiness.ready {
                        firstServes = true
                        sink.yield(.firstNodeServes)
                    } else {
                        views[0] = "not ready: " + (readiness.reason ?? "")
                    }
                } catch {
                    views[0] = error.description
                }
            }
            if firstServes {
                let names = Set(nodes.map(\.name))
                var formed = true
                for (index, client) in clients.enumerated() {
                    do {
                        let seen = try await client.members().map(\.name)
                        let readiness = try await client.ready()
                        views[index] =
                            "sees " + seen.sorted().joined(separator: ", ")
                            + (readiness.ready ? "" : ", not ready: " + (readiness.reason ?? ""))
                        ready[index] = names.isSubset(of: seen) && readiness.ready
                    } catch {
                        views[index] = error.description
                        ready[index] = false
                    }
                    formed = formed && ready[index]
                }
                if formed {
                    sink.yield(.formed)
                    return
                }
            }
            let now = ContinuousClock.now
            progress.observe(ready: ready.filter { $0 }.count + (firstServes ? 1 : 0), now: now)
            if progress.stalled(at: now, limit: .seconds(ClusterUp.startupStallLimit)) {
                sink.yield(.didNotForm(zip(nodes, views).map { "  \($0.name): \($1)" }.joined(separator: "\n")))
                return
            }
            if now - lastReport >= .seconds(ClusterUp.startupReportInterval) {
                lastReport = now
                let waiting = nodes.indices.filter { !ready[$0] }.map { index in
                    let said = Processes.tail(nodes[index].dataDir + "/node.log", lines: 1, after: banner).first
                    return "  \(nodes[index].name): " + (said ?? views[index])
                }
                Console.error(
                    "still starting after \(Int((now - start).components.seconds)) s:\n"
                        + waiting.joined(separator: "\n"))
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// The table of nodes and a few commands to try.
    private func printWelcome() {
        let first = nodes[0]
        var node = defaultLocation ? "" : " --node \(first.http)"
        let nameWidth = max(4, nodes.map(\.name.count).max() ?? 0) + 2
        let peerWidth = max(4, nodes.map(\.peer.count).max() ?? 0) + 2
        func row(_ name: String, _ peer: String, _ http: String) -> String {
            "  " + name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + peer.padding(toLength: peerWidth, withPad: " ", startingAt: 0) + http
        }
        let key = Endpoint.get(key: "greeting", r: 2).url(baseURL: URL(string: first.http)!).absoluteString
        let put = Endpoint.put(key: "greeting", value: "", w: 2, context: nil).url(baseURL: URL(string: first.http)!)
        var lines = [
            "Kvorum: \(nodes.count) node(s) up, data in \(displayDirectory).", "",
            row("NAME", "PEER", "HTTP"),
        ]
        lines += nodes.map { row($0.name, $0.peer, $0.http) }
        // A secure cluster wants its CA and token from commands that are
        // not told them by cluster.json (curl, and a CLI given --node).
        var curl = "curl -s"
        var credentials = ""
        if let record = security?.record, let tokenFile = record.tokenFile {
            curl += " --cacert \(record.caFile) -H \"Authorization: Bearer $(cat \(tokenFile))\""
            credentials = " --ca \(record.caFile) --token \"$(cat \(tokenFile))\""
            lines += ["", "TLS and HTTPS on: the CA is \(record.caFile), an admin token is in \(tokenFile)."]
            if !node.isEmpty { node += credentials }
        }
        lines += [
            "",
            "Try, in another terminal\(defaultLocation ? " in this directory" : ""):",
            "  kvorum put greeting hello\(node)",
            "  kvorum get greeting\(node)",
            "  kvorum lookup greeting\(node)",
            "  kvorum status\(node)",
            "  kvorum members --node \(nodes[nodes.count - 1].http)\(credentials)",
            "  \(curl) -X PUT --data-binary hello '\(put.absoluteString)'",
            "  \(curl) '\(key)'",
            "  \(curl) \(first.http)/stats",
            "",
            "Web console: \(first.http)/ui (every node serves one).",
        ]
        if let binaryBasePort {
            lines += [
                "Binary protocol (docs/binary-protocol.md): node K on 127.0.0.1:\(binaryBasePort)+K-1, e.g.",
                "  kvorum bench --protocol binary --node 127.0.0.1:\(binaryBasePort)\(credentials)",
            ]
        }
        lines += [
            "",
            "Node logs: \(displayDirectory)/nodeK/node.log. Ctrl-C stops every node; "
                + "`kvorum cluster up` again restarts them on the same data.",
        ]
        Console.say(lines.joined(separator: "\n"))
    }
}
