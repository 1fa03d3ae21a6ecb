import ArgumentParser
import Foundation
import KvorumBench

import struct KvorumClient.ClusterFile

#if canImport(Glibc)
    import Glibc
#endif

/// `kvorum bench`: a YCSB-style load generator for Kvorum, Redis and etcd.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency of Kvorum, Redis or etcd under a YCSB workload.",
        discussion: """
            Workloads: A (50% read, 50% update), B (95/5), C (read only), F (50% read, 50% read-modify-write \
            with the read's context), W (update only). Keys are `user` and a 10-digit record number; values are \
            random letters. Each connection has its own thread and runs one operation at a time; its key and \
            operation choices follow from --seed and its index. The records are written first unless \
            --skip-load. Kvorum updates carry the key's last known context (from the last read or write of it by \
            any connection) so they replace the value as SET and put do. Redis with --redis-wait pipelines \
            `WAIT 1 1000` after each SET; etcd reads are linearizable unless --etcd-serializable.
            """
    )

    @Option(help: "kvorum, redis or etcd.")
    var target = "kvorum"

    @Option(
        help: ArgumentHelp(
            """
            A Kvorum node's HTTP URL, as for the other commands (also host:port; default: the first node in \
            ./kvorum-data/cluster.json, else http://127.0.0.1:8701). Repeat it, or separate URLs with commas, \
            to spread the connections over several nodes round-robin.
            """, valueName: "url"))
    var node: [String] = []

    @Option(help: "Redis address host:port.")
    var redis = "127.0.0.1:6379"

    @Flag(help: "Follow every Redis SET with WAIT 1 1000 (a write on two copies).")
    var redisWait = false

    @Option(help: "etcd client URL (its v3 JSON gateway).")
    var etcd = "http://127.0.0.1:2379"

    @Flag(help: "Serializable etcd reads (default: linearizable).")
    var etcdSerializable = false

    @Option(help: "Workload: A, B, C, F or W.")
    var workload = "A"

    @Option(help: "Key distribution: uniform or zipfian (scrambled, constant 0.99).")
    var distribution = "uniform"

    @Option(help: "Number of records.")
    var records = 100_000

    @Option(help: "Value size in bytes.")
    var valueSize = 100

    @Option(help: "Connections (one thread each).")
    var concurrency = 16

    @Option(help: "Seconds to measure.")
    var duration = 10.0

    @Option(help: "Operations to measure instead of a duration.")
    var operations: Int?

    @Option(help: "Seconds of unmeasured warm-up before measuring.")
    var warmup = 2.0

    @Option(help: "Kvorum read quorum.")
    var r = 2

    @Option(help: "Kvorum write quorum.")
    var w = 2

    @Flag(help: "Do not write the records first (reuse a previous load).")
    var skipLoad = false

    @Option(
        help: ArgumentHelp(
            """
            How Kvorum connections are made: socket (blocking sockets, the fastest client) or channel (SwiftNIO \
            channels, the only one that speaks TLS). Compare TLS with plain TCP over channel both times.
            """, valueName: "socket|channel"))
    var transport: String?

    @Option(
        name: .customLong("protocol"),
        help: ArgumentHelp(
            """
            Kvorum's client protocol: http (the HTTP API) or binary (docs/binary-protocol.md; --node then names \
            each node's --binary-listen address, host:port).
            """, valueName: "http|binary"))
    var clientProtocol = "http"

    @Option(help: "The cluster CA certificate (PEM): connect with TLS and trust only it (env KVORUM_CA).")
    var ca: String?

    @Option(help: "A client certificate (PEM) to present, with --key (env KVORUM_CERT).")
    var cert: String?

    @Option(help: "The client certificate's private key (PEM) (env KVORUM_KEY).")
    var key: String?

    @Option(help: "A bearer token sent with every Kvorum request (env KVORUM_TOKEN).")
    var token: String?

    @Option(help: "Seed of the key, operation and value choices.")
    var seed: UInt64 = 1

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard Workload(rawValue: workload.uppercased()) != nil else {
            throw ValidationError("--workload must be one of A, B, C, F, W")
        }
        guard KeyDistribution(rawValue: distribution) != nil else {
            throw ValidationError("--distribution must be uniform or zipfian")
        }
        guard records >= 1, valueSize >= 1, concurrency >= 1, duration > 0, warmup >= 0 else {
            throw ValidationError("--records, --value-size, --concurrency and --duration must be positive")
        }
        if let operations, operations < 1 { throw ValidationError("--operations must be positive") }
        guard (1...3).contains(r), (1...3).contains(w) else { throw ValidationError("--r and --w must be 1…3") }
        guard KvorumProtocol(rawValue: clientProtocol) != nil else {
            throw ValidationError("--protocol must be http or binary")
        }
        _ = try benchTarget()
        _ = try security()
    }

    /// The transport, TLS files and token, from the options or the environment.
    private func security() throws -> ClientSecurity {
        let environment = ProcessInfo.processInfo.environment
        var kind = ClientSecurity.Transport.socket
        if let transport {
            guard let named = ClientSecurity.Transport(rawValue: transport) else {
                throw ValidationError("--transport must be socket or channel")
            }
            kind = named
        }
        let ca = ca ?? environment["KVORUM_CA"]
        if ca != nil, kind == .socket, transport != nil {
            throw ValidationError("TLS (--ca) runs over --transport channel only")
        }
        if ca == nil, node.contains(where: { $0.hasPrefix("https://") }) {
            throw ValidationError("an https:// node needs --ca (or KVORUM_CA), the cluster's CA certificate")
        }
        do {
            return try ClientSecurity(
                transport: kind, caFile: ca, certificate: cert ?? environment["KVORUM_CERT"],
                key: key ?? environment["KVORUM_KEY"], token: token ?? environment["KVORUM_TOKEN"])
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The target the options name.
    private func benchTarget() throws -> BenchTarget {
        switch target {
        case "kvorum":
            let nodes = node.flatMap { $0.split(separator: ",").map(String.init) }
            let parsed = nodes.compactMap(Endpoint.init)
            guard parsed.count == nodes.count else {
                throw ValidationError("--node must be a URL like http://127.0.0.1:8701 (or host:port)")
            }
            if parsed.isEmpty {
                let url = ClusterFile.defaultNodeURL(
                    workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                return .kvorum([Endpoint(host: url.host ?? "127.0.0.1", port: url.port ?? 80)])
            }
            return .kvorum(parsed)
        case "redis":
            guard let endpoint = Endpoint(redis) else { throw ValidationError("--redis must be HOST:PORT") }
            return .redis(endpoint, wait: redisWait)
        case "etcd":
            guard let endpoint = Endpoint(etcd) else { throw ValidationError("--etcd must be http://HOST:PORT") }
            return .etcd(endpoint, serializable: etcdSerializable)
        default:
            throw ValidationError("--target must be kvorum, redis or etcd")
        }
    }

    func run() throws {
        var configuration = BenchConfiguration(
            target: try benchTarget(), workload: Workload(rawValue: workload.uppercased())!,
            distribution: KeyDistribution(rawValue: distribution)!, records: records, valueSize: valueSize,
            concurrency: concurrency, duration: duration, operations: operations, warmup: warmup, r: r, w: w,
            skipLoad: skipLoad, seed: seed)
        configuration.security = try security()
        configuration.kvorumProtocol = KvorumProtocol(rawValue: clientProtocol)!
        // A live line on a terminal only: not when piped, not in CI.
        let live = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
        var progress: (@Sendable (String) -> Void)?
        if live { progress = { @Sendable line in Self.status(line) } }
        let report = BenchRunner.run(configuration, progress: progress)
        if live { Self.status("") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if report.operations == 0 { throw ExitCode(1) }
    }

    /// Rewrites the status line on standard error.
    private nonisolated static func status(_ line: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }
}
