import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// The CLI with several nodes (`--nodes`, `KVORUM_NODES`, the local
/// cluster's record): real `kvorum` processes against a real cluster whose
/// first node is dead.
@Suite(.serialized)
struct CLIFailoverProcessTests {
    /// With node1 killed, `put` and `get` through `--nodes node1,node2,node3`
    /// succeed on node2, as does `get` through `KVORUM_NODES` and through
    /// `./kvorum-data/cluster.json` (which gives all three); `stats` asks
    /// node1 alone and fails, saying so. With every node down the error
    /// names all three, in order, and why, without the "start a local
    /// cluster" hint.
    @Test(.timeLimit(.minutes(2)))
    func requestsFailOverPastADeadNode() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let urls = cluster.nodes.map(\.httpURL.absoluteString)
        let list = urls.joined(separator: ",")
        cluster.kill9(cluster.nodes[0])

        func kvorum(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws
            -> ChildProcess.Result
        {
            try ChildProcess.run(
                Paths.kvorum, arguments, environment: environment, directory: directory, deadline: 30)
        }
        let put = try kvorum(["put", "failover", "works", "--nodes", list])
        #expect(put.status == 0 && put.stdout.hasPrefix("context: "), "\(put.stderr)")
        let get = try kvorum(["get", "failover", "--nodes", list])
        #expect(get.status == 0 && get.stdout.hasPrefix("works\ncontext: "), "\(get.stderr)")
        let fromEnvironment = try kvorum(["get", "failover"], environment: ["KVORUM_NODES": list])
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout.hasPrefix("works\n"), "\(fromEnvironment.stderr)")

        let workingDirectory = cluster.root.appendingPathComponent("cli")
        let data = workingDirectory.appendingPathComponent(ClusterFile.defaultDirectory)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try ClusterFile(
            nodes: cluster.nodes.map {
                .init(
                    name: $0.name, peer: $0.peer, http: $0.httpURL.absoluteString, dataDir: $0.dataDirectory.path,
                    pid: 0)
            }
        ).write(to: data)
        let fromRecord = try kvorum(["get", "failover"], directory: workingDirectory)
        #expect(fromRecord.status == 0 && fromRecord.stdout.hasPrefix("works\n"), "\(fromRecord.stderr)")

        let stats = try kvorum(["stats", "--nodes", list])
        #expect(stats.status == 2, "\(stats.stdout)")
        #expect(stats.stderr.contains("cannot reach the Kvorum node at \(urls[0]): connection refused"))
        #expect(!stats.stderr.contains(urls[1]), "\(stats.stderr)")
        #expect(stats.stderr.contains("asks one node, the first of the 3 given"), "\(stats.stderr)")

        for node in cluster.nodes.dropFirst() { cluster.kill9(node) }
        let down = try kvorum(["get", "failover", "--nodes", list])
        #expect(down.status == 2)
        #expect(
            down.stderr
                == "error: cannot reach any of the 3 Kvorum nodes: tried \(urls[0]) (connection refused), "
                + "\(urls[1]) (connection refused), \(urls[2]) (connection refused)\n")
        let downFromRecord = try kvorum(["put", "failover", "again"], directory: workingDirectory)
        #expect(downFromRecord.status == 2)
        #expect(downFromRecord.stderr.contains("tried \(urls[0]) (connection refused), \(urls[1])"))
        #expect(!downFromRecord.stderr.contains("start a local cluster"), "\(downFromRecord.stderr)")
    }

    /// Flags that name nodes wrongly, or both ways, stop the command before
    /// it sends anything; so does a malformed `KVORUM_NODES`.
    @Test func badNodeListsAreRefused() throws {
        let both = try ChildProcess.run(
            Paths.kvorum, ["get", "k", "--node", "127.0.0.1:1", "--nodes", "127.0.0.1:2"], deadline: 20)
        #expect(both.status != 0 && both.stderr.contains("give --node or --nodes, not both"), "\(both.stderr)")
        let bad = try ChildProcess.run(Paths.kvorum, ["get", "k", "--nodes", "127.0.0.1:1,,"], deadline: 20)
        #expect(bad.status != 0 && bad.stderr.contains("--nodes must be URLs"), "\(bad.stderr)")
        let environment = try ChildProcess.run(
            Paths.kvorum, ["get", "k"], environment: ["KVORUM_NODES": "ftp://x:1"], deadline: 20)
        #expect(environment.status != 0 && environment.stderr.contains("KVORUM_NODES must be"), "\(environment.stderr)")
    }
}
