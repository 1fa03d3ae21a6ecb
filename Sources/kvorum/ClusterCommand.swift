import ArgumentParser
import Foundation
import KvorumCerts
import KvorumClient
import KvorumServer

#if canImport(Glibc)
    import Glibc
#endif

/// `kvorum cluster`: a local cluster of node processes on loopback.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run a local cluster of kvorum node processes on loopback.",
        subcommands: [ClusterUp.self, ClusterDown.self]
    )
}

/// The data directory option of the cluster commands.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The cluster's data directory.")
    var path: String = ClusterFile.defaultDirectory

    /// The directory, absolute.
    var url: URL { Self.resolve(path) }

    /// Whether it is the directory the client commands find by themselves.
    var isDefault: Bool { url.path == Self.resolve(ClusterFile.defaultDirectory).path }

    private static func resolve(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
    }
}

/// `kvorum cluster up`: starts the nodes, waits until they form one cluster,
/// and supervises them in the foreground until Ctrl-C.
struct ClusterUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start N kvorum nodes on loopback, join them, and stay in the foreground until Ctrl-C.",
        discussion: """
            Node K is named nodeK and keeps its data in DIR/nodeK (log: DIR/nodeK/node.log); node1 starts the \
            cluster and the others join it. The nodes and their addresses are recorded in DIR/cluster.json, \
            where the other kvorum commands find their default node. Running `cluster up` again with the same \
            DIR restarts the nodes on their data, and on their previous ports when those are free. \
            Ctrl-C (or SIGTERM) stops every node: SIGTERM, then SIGKILL after 10 s.

            Without --secure the nodes run without TLS or credentials, which a cluster on loopback may. With \
            --secure, a CA, a certificate per node and an admin token are made under DIR/certs (kept for later \
            runs): the nodes speak mutual TLS to each other, serve HTTPS and require the token, and \
            DIR/cluster.json records the CA and the token's file, so the other kvorum commands use them \
            (docs/security.md).
            """
    )

    @Option(help: "Number of nodes.")
    var nodes = 3

    @OptionGroup var dataDirectory: DataDirectoryOption

    @Option(
        help: ArgumentHelp(
            "Fixed ports: peers on P, P+1, …, HTTP on P+1000, P+1001, … (default: free ports, the previous ones if free).",
            valueName: "P"))
    var basePort: Int?

    @Option(
        help: ArgumentHelp(
            """
            Turn on the binary client protocol (docs/binary-protocol.md): node K listens on 127.0.0.1:B+K-1 \
            (default: off).
            """, valueName: "B"))
    var binaryBasePort: Int?

    @Option(help: "Durability of the nodes' writes: process or fsync (default: the node's).")
    var durability: String?

    @Flag(help: "Make a CA, node certificates and an admin token under DIR/certs; run the nodes with TLS and HTTPS.")
    var secure = false

    /// Seconds the nodes may go without progress while they form one
    /// cluster: no new answer and no new line in any node's log (a node
    /// converting a large store logs its progress). Nodes that keep making
    /// progress are waited for as long as they need.
    static let startupStallLimit = 30.0
    /// Seconds between two reports of what the nodes are doing while they
    /// take long to form one cluster.
    static let startupReportInterval = 5.0
    /// Seconds the nodes get to stop after SIGTERM before they are killed.
    static let stopDeadline = 10.0

    func validate() throws {
        guard (1...99).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 99") }
        if let basePort, !(1024...(65535 - 1000 - nodes + 1)).contains(basePort) {
            throw ValidationError(
                "--base-port must leave room for \(nodes) peer and HTTP ports (1024…\(64536 - nodes))")
        }
        if let binaryBasePort, !(1024...(65536 - nodes)).contains(binaryBasePort) {
            throw ValidationError("--binary-base-port must leave room for \(nodes) ports (1024…\(65536 - nodes))")
        }
    }

    func run() async throws {
        try await Console.reportingErrors {
            let directory = dataDirectory.url
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let previous: ClusterFile?
            do {
                previous = try ClusterFile.read(from: directory)
            } catch {
                throw CLIError(
                    "cannot read \(ClusterFile.location(in: directory).path): \(error); remove it to start over")
            }
            if let previous { try refuseIfRunning(previous) }
            let plan = try planNodes(previous: previous, directory: directory)
            for node in plan {
                try FileManager.default.createDirectory(atPath: node.dataDir, withIntermediateDirectories: true)
            }
            let security = try secure ? makeSecurity(for: plan, in: directory) : nil
            let supervisor = ClusterSupervisor(
                plan: plan, directory: directory, displayDirectory: dataDirectory.path, durability: durability,
                defaultLocation: dataDirectory.isDefault, security: security, binaryBasePort: binaryBasePort)
            let succeeded = try await supervisor.run()
            if !succeeded { throw ExitCode(1) }
        }
    }

    /// Fails if processes recorded in `record` still run: two supervisors
    /// on one data directory would fight over it.
    /// `--secure`: a CA in DIR/certs/ca, each node's certificate
    /// directory DIR/certs/NAME (for 127.0.0.1 and localhost), an admin
    /// token in DIR/certs/admin.token (mode 0600) and DIR/certs/auth.toml
    /// listing its hash, the nodes' `--config`; what exists from an earlier
    /// run is kept.
    private func makeSecurity(for plan: [ClusterFile.Node], in directory: URL) throws -> LocalClusterSecurity {
        let root = directory.appendingPathComponent("certs")
        let certificates = try CertificateSet(root: root, lifetime: CertsCommand.Lifetime.authority)
        var directories: [String: String] = [:]
        for node in plan {
            directories[node.name] =
                try certificates.node(
                    node.name, hosts: [.ipAddress([127, 0, 0, 1]), .dnsName("localhost")],
                    lifetime: CertsCommand.Lifetime.leaf
                ).path
        }
        let tokenFile = root.appendingPathComponent("admin.token")
        let token: String
        if let stored = try? String(contentsOf: tokenFile, encoding: .utf8),
            let line = stored.split(whereSeparator: \.isNewline).first, line.hasPrefix(AccessToken.prefix)
        {
            token = String(line)
        } else {
            token = AccessToken.make()
            guard
                FileManager.default.createFile(
                    atPath: tokenFile.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else { throw CLIError("cannot write \(tokenFile.path)") }
        }
        let configFile = root.appendingPathComponent("auth.toml")
        let config = """
            # Written by `kvorum cluster up --secure`: the admin token in admin.token, by its hash.
            [[auth.tokens]]
            name = "admin"
            role = "admin"
            sha256 = "\(AccessToken.hexHash(token))"

            """
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        return LocalClusterSecurity(
            certsDirs: directories, configFile: configFile.path,
            record: ClusterFile.Security(caFile: certificates.caCertificateFile.path, tokenFile: tokenFile.path))
    }

    private func refuseIfRunning(_ record: ClusterFile) throws {
        var running: [String] = []
        if let pid = record.supervisor, Processes.isRunning(pid, commandLineContains: ["cluster", "up"]) {
            running.append("cluster up (pid \(pid))")
        }
        for node in record.nodes where Processes.isRunning(node.pid, commandLineContains: ["node", node.dataDir]) {
            running.append("\(node.name) (pid \(node.pid))")
        }
        guard running.isEmpty else {
            throw CLIError(
                "a cluster on \(dataDirectory.path) is still running: \(running.joined(separator: ", ")); "
                    + "stop it with Ctrl-C where it runs, or `kvorum cluster down --data-dir \(dataDirectory.path)`")
        }
    }

    /// Names, addresses and data directories of the nodes to start: the
    /// ports of `--base-port`, else the previous run's where both of a node's
    /// ports are still free, else ports the system finds free.
    private func planNodes(previous: ClusterFile?, directory: URL) throws -> [ClusterFile.Node] {
        let names = (1...nodes).map { "node\($0)" }
        var ports: [String: (peer: Int, http: Int)] = [:]
        if let basePort {
            for (index, name) in names.enumerated() {
                let pair = (peer: basePort + index, http: basePort + 1000 + index)
                for port in [pair.peer, pair.http] where !LoopbackPorts.isFree(port) {
                    throw CLIError(
                        "port \(port) on 127.0.0.1 is in use (needed by \(name) with --base-port \(basePort))")
                }
                ports[name] = pair
            }
        } else {
            var used = Set<Int>()
            for node in previous?.nodes ?? [] where names.contains(node.name) {
                guard let peer = node.peerPort, let http = node.httpPort else { continue }
                if !used.contains(peer), !used.contains(http), peer != http, LoopbackPorts.isFree(peer),
                    LoopbackPorts.isFree(http)
                {
                    ports[node.name] = (peer, http)
                    used.formUnion([peer, http])
                } else {
                    Console.say(
                        "note: \(node.name)'s ports from the last run (\(peer), \(http)) are taken; it gets new ones")
                }
            }
            let missing = names.filter { ports[$0] == nil }
            var fresh = try LoopbackPorts.allocate(2 * missing.count, excluding: used)[...]
            for name in missing { ports[name] = (fresh.removeFirst(), fresh.removeFirst()) }
        }
        if let extra = previous?.nodes.filter({ !names.contains($0.name) }).map(\.name), !extra.isEmpty {
            Console.say("note: \(extra.joined(separator: ", ")) of the last run stay down (--nodes \(nodes))")
        }
        return names.map { name in
            ClusterFile.Node(
                name: name, peer: "127.0.0.1:\(ports[name]!.peer)",
                http: "\(secure ? "https" : "http")://127.0.0.1:\(ports[name]!.http)",
                dataDir: directory.appendingPathComponent(name).path, pid: 0)
        }
    }
}

/// What `cluster up --secure` made for its nodes and its record.
struct LocalClusterSecurity {
    /// Each node's certificate directory (its `--certs-dir`), by name.
    var certsDirs: [String: String]
    /// The config file every node reads (`--config`): the admin token's hash.
    var configFile: String
    /// What DIR/cluster.json says: the CA and the token's file.
    var record: ClusterFile.Security
}

/// `kvorum cluster down`: stops the cluster recorded in a data directory.
struct ClusterDown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the local cluster recorded in DIR/cluster.json (for scripts).",
        discussion: """
            Sends SIGTERM to the supervising `cluster up` if it still runs (it stops its nodes), else to every \
            recorded node still running; kills what is left after 15 s.
            """
    )

    @OptionGroup var dataDirectory: DataDirectoryOption

    func run() throws {
        let record: ClusterFile?
        do {
            record = try ClusterFile.read(from: dataDirectory.url)
        } catch {
            Console.error("error: cannot read \(ClusterFile.location(in: dataDirectory.url).path): \(error)")
            throw ExitCode(1)
        }
        guard let record else {
            print("no cluster recorded in \(dataDirectory.path)")
            return
        }
        let nodes = record.nodes.filter { Processes.isRunning($0.pid, commandLineContains: ["node", $0.dataDir]) }
        var targets = nodes.map { (name: $0.name, pid: $0.pid, words: ["node", $0.dataDir]) }
        if let pid = record.supervisor, Processes.isRunning(pid, commandLineContains: ["cluster", "up"]) {
            // The supervisor stops its nodes itself and waits for them.
            targets.insert((name: "cluster up", pid: pid, words: ["cluster", "up"]), at: 0)
            kill(pid, SIGTERM)
        } else {
            for target in targets { kill(target.pid, SIGTERM) }
        }
        guard !targets.isEmpty else {
            print("nothing recorded in \(dataDirectory.path) is running")
            return
        }
        let deadline = Date().addingTimeInterval(ClusterUp.stopDeadline + 5)
        var running = targets
        while !running.isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            running = running.filter { Processes.isRunning($0.pid, commandLineContains: $0.words) }
        }
        for target in running {
            kill(target.pid, SIGKILL)
            Console.error("\(target.name) (pid \(target.pid)) did not stop in time; killed")
        }
        print("stopped " + targets.map { "\($0.name) (pid \($0.pid))" }.joined(separator: ", "))
    }
}
