import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// `kvorum cluster up --secure` as a user runs it: the nodes speak mutual
/// TLS and serve HTTPS requiring the admin token it made, and the CLI in the
/// same directory finds the CA and the token through cluster.json.
@Suite(.serialized)
struct SecureClusterUpProcessTests {
    @Test(.timeLimit(.minutes(3)))
    func aSecureLocalClusterWorksWithNoSetUpAndRefusesStrangers() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kvorum-secure-up-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("cluster-up.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let supervisor = Process()
        supervisor.executableURL = Paths.kvorum
        supervisor.arguments = ["cluster", "up", "--secure", "--nodes", "3"]
        supervisor.currentDirectoryURL = directory
        supervisor.standardOutput = try FileHandle(forWritingTo: output)
        supervisor.standardError = supervisor.standardOutput
        supervisor.standardInput = FileHandle.nullDevice
        try supervisor.run()
        defer {
            if supervisor.isRunning {
                supervisor.terminate()
                let deadline = Date().addingTimeInterval(20)
                while supervisor.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
                if supervisor.isRunning { kill(supervisor.processIdentifier, SIGKILL) }
            }
        }
        let deadline = Date().addingTimeInterval(120)
        var printed = ""
        while !printed.contains("node(s) up"), supervisor.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        }
        try #require(printed.contains("node(s) up"), "cluster up did not come up:\n\(printed)")
        #expect(printed.contains("TLS and HTTPS on"), "\(printed)")

        let data = directory.appendingPathComponent("kvorum-data")
        let record = try #require(try ClusterFile.read(from: data))
        let security = try #require(record.security, "cluster.json records no CA or token")
        #expect(record.nodes.allSatisfy { $0.http.hasPrefix("https://") }, "\(record.nodes.map(\.http))")
        let tokenFile = try #require(security.tokenFile)
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        for node in record.nodes {
            let log = try String(contentsOfFile: node.dataDir + "/node.log", encoding: .utf8)
            #expect(log.contains("peer TLS on"), "\(node.name) did not start peer TLS")
        }

        // The CLI in this directory needs no flags.
        let put = try ChildProcess.run(
            Paths.kvorum, ["put", "greeting", "hello", "--w", "3"], directory: directory, deadline: 30)
        #expect(put.status == 0, "\(put.stderr)")
        let get = try ChildProcess.run(
            Paths.kvorum, ["get", "greeting", "--r", "3"], directory: directory, deadline: 30)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout.hasPrefix("hello"), "\(get.stdout)")

        // Without the token the node refuses; with a plain URL it says to use https.
        let node = record.nodes[1].http
        let stranger = try ChildProcess.run(
            Paths.kvorum, ["get", "greeting", "--node", node, "--ca", security.caFile], deadline: 30)
        #expect(stranger.status != 0)
        #expect(stranger.stderr.contains("401") || stranger.stderr.contains("credentials"), "\(stranger.stderr)")
        let plain = try ChildProcess.run(
            Paths.kvorum, ["get", "greeting", "--node", node.replacingOccurrences(of: "https://", with: "http://")],
            deadline: 30)
        #expect(plain.status != 0)
        #expect(plain.stderr.contains("https"), "\(plain.stderr)")

        supervisor.terminate()
        let stopBy = Date().addingTimeInterval(30)
        while supervisor.isRunning, Date() < stopBy { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!supervisor.isRunning, "cluster up did not stop on SIGTERM")
    }
}
