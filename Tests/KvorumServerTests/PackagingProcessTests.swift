import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// The packaging files in deploy/ run as written, on a machine with no
/// container engine and no Kubernetes: their commands are started as real
/// `kvorum` processes, each container's host name a loopback address of its
/// own, its ports free ports, its volumes directories. A file that passes a
/// flag or setting the node does not accept fails here: the node exits
/// instead of answering /health.
@Suite(.serialized)
struct PackagingProcessTests {
    static let deploy = Paths.repository.appendingPathComponent("deploy")

    /// compose.yaml: the `certs` service's script makes the CA and the
    /// certificates, then kvorum1, kvorum2 and kvorum3 start from their
    /// `command` lists (the second and third joining the first), form a
    /// cluster of three over mutual TLS, and serve a write and a read over
    /// HTTPS to the client certificate the script made.
    @Test(.timeLimit(.minutes(3)))
    func composeFileFormsAThreeNodeCluster() async throws {
        let compose = try DeploymentFile(Self.deploy.appendingPathComponent("compose.yaml"))
        let services = try #require(compose.block("services", indent: 0))
        let rehearsal = try DeploymentRehearsal()
        defer { rehearsal.shutdown() }
        let names = ["kvorum1", "kvorum2", "kvorum3"]
        for (index, name) in names.enumerated() { rehearsal.host(name, at: "127.0.0.\(index + 2)") }

        func mounts(_ service: DeploymentFile) throws -> [String: URL] {
            var mounts: [String: URL] = [:]
            for volume in try #require(service.list("volumes")) {
                let parts = volume.split(separator: ":")
                let source = String(parts[0])
                let local =
                    source.hasPrefix("./")
                    ? Self.deploy.appendingPathComponent(String(source.dropFirst(2)))
                    : rehearsal.root.appendingPathComponent(source)
                if !source.hasPrefix("./") {
                    try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
                }
                mounts[String(parts[1])] = local
            }
            return mounts
        }

        let certs = try #require(services.block("certs", indent: 2))
        #expect(certs.value("entrypoint") == #"["/bin/sh", "-ec"]"#)
        let script = try #require(certs.list("command")?.first)
        try rehearsal.runScript(try rehearsal.substitute(script: script, in: "certs", mounts: try mounts(certs)))
        let certsDirectory = rehearsal.root.appendingPathComponent("certs")
        let credentials = ClientCredentials(
            caFile: certsDirectory.appendingPathComponent("client/ca.crt").path,
            certificateFile: certsDirectory.appendingPathComponent("client/client.operator.crt").path,
            keyFile: certsDirectory.appendingPathComponent("client/client.operator.key").path)

        var clients: [KvorumClient] = []
        for name in names {
            let service = try #require(services.block(name, indent: 2), "no service \(name)")
            let mounts = try mounts(service)
            let command = try #require(service.list("command"), "\(name) has no command list")
            let arguments = try rehearsal.substitute(command, in: name, mounts: mounts)
            #expect(arguments.contains("--certs-dir"), "\(name) runs without TLS")
            clients.append(
                try await rehearsal.startNode(
                    name, arguments, host: name, httpPort: 8701, credentials: credentials))
        }
        try await rehearsal.waitForMembers(3, on: clients)
        let members = try await clients[0].members()
        #expect(members.map(\.name) == names)
        let peerPort = try rehearsal.port(7700, of: "kvorum2")
        #expect(members[1].address == "127.0.0.3:\(peerPort)")
        let written = try await clients[2].put("composed", value: "three", w: 3)
        let read = try await clients[0].get("composed", r: 3)
        #expect(read.values == ["three"] && read.metadata == [written])
    }

    /// kubernetes/statefulset.yaml: for pods kvorum-0 and kvorum-1, the init
    /// container's script signs the pod's certificate with a CA (the Secret
    /// `kvorum-ca`), then the node starts from the container's `args` with
    /// `$(POD_NAME)` set; kvorum-1 joins through kvorum-0, and both list
    /// two members. The probes ask /ready and /health over HTTPS.
    @Test(.timeLimit(.minutes(3)))
    func statefulSetPodsFormACluster() async throws {
        let file = try DeploymentFile(Self.deploy.appendingPathComponent("kubernetes/statefulset.yaml"))
        let rehearsal = try DeploymentRehearsal()
        defer { rehearsal.shutdown() }
        let pods = ["kvorum-0", "kvorum-1"]
        for (index, pod) in pods.enumerated() { rehearsal.host("\(pod).kvorum", at: "127.0.0.\(index + 12)") }

        let authority = rehearsal.root.appendingPathComponent("kvorum-ca")
        try rehearsal.runScript("kvorum certs create-ca --certs-dir \(authority.path)")
        try rehearsal.runScript("kvorum certs create-client operator --certs-dir \(authority.path)")
        let auth = rehearsal.root.appendingPathComponent("auth")
        try FileManager.default.createDirectory(at: auth, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.deploy.appendingPathComponent("auth.toml"), to: auth.appendingPathComponent("auth.toml"))
        let credentials = ClientCredentials(
            caFile: authority.appendingPathComponent("ca.crt").path,
            certificateFile: authority.appendingPathComponent("client.operator.crt").path,
            keyFile: authority.appendingPathComponent("client.operator.key").path)

        let initCommand = try #require(file.section(after: "initContainers")?.list("command"))
        #expect(Array(initCommand.prefix(2)) == ["/bin/sh", "-ec"])
        let args = try #require(file.section(after: "containers")?.list("args"))
        #expect(file.section(after: "readinessProbe")?.value("path") == "/ready")
        #expect(file.section(after: "livenessProbe")?.value("path") == "/health")

        var clients: [KvorumClient] = []
        for pod in pods {
            let host = "\(pod).kvorum"
            let podDirectory = rehearsal.root.appendingPathComponent(pod)
            let mounts = [
                "/ca": authority, "/certs": podDirectory.appendingPathComponent("certs"),
                "/var/lib/kvorum": podDirectory.appendingPathComponent("data"), "/etc/kvorum": auth,
            ]
            for directory in mounts.values {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            func expand(_ text: String) -> String {
                text.replacingOccurrences(of: "$(POD_NAME)", with: pod).replacingOccurrences(of: "$POD_NAME", with: pod)
            }
            try rehearsal.runScript(
                try rehearsal.substitute(script: expand(initCommand[2]), in: host, mounts: mounts))
            let arguments = try rehearsal.substitute(args.map(expand), in: host, mounts: mounts)
            clients.append(
                try await rehearsal.startNode(pod, arguments, host: host, httpPort: 8701, credentials: credentials))
        }
        try await rehearsal.waitForMembers(2, on: clients)
        #expect(try await clients[1].members().map(\.name) == pods)
    }

    /// kvorum.service: its ExecStart, with the config file it names made
    /// from deploy/kvorum.toml.example for loopback, starts a node that
    /// answers /health; the example's data-dir is the unit's StateDirectory.
    @Test(.timeLimit(.minutes(1)))
    func systemdUnitStartsANode() async throws {
        let unit = try String(contentsOf: Self.deploy.appendingPathComponent("kvorum.service"), encoding: .utf8)
        let lines = unit.split(separator: "\n")
        let execStart = try #require(lines.first { $0.hasPrefix("ExecStart=") }).dropFirst("ExecStart=".count)
        var words = execStart.split(separator: " ").map(String.init)
        let executable = words.removeFirst()
        #expect(executable == "/usr/local/bin/kvorum")
        let stateDirectory = try #require(lines.first { $0.hasPrefix("StateDirectory=") })
            .dropFirst("StateDirectory=".count)
        let example = try String(
            contentsOf: Self.deploy.appendingPathComponent("kvorum.toml.example"), encoding: .utf8)
        #expect(example.contains("data-dir = \"/var/lib/\(stateDirectory)\""))

        let rehearsal = try DeploymentRehearsal()
        defer { rehearsal.shutdown() }
        rehearsal.host("10.0.0.1", at: "127.0.0.22")
        let certs = rehearsal.root.appendingPathComponent("certs")
        try rehearsal.runScript(
            "kvorum certs create-ca --certs-dir \(certs.path) && kvorum certs create-node kv1 --host 127.0.0.22 "
                + "--certs-dir \(certs.path)")
        // The example's own host is 10.0.0.1; it joins 10.0.0.2, which is
        // not here: it joins itself instead (a cluster of one).
        var config = example.replacingOccurrences(of: "10.0.0.2:7700", with: "10.0.0.1:7700")
        let data = rehearsal.root.appendingPathComponent("data")
        let mounts = ["/etc/kvorum/certs": certs, "/var/lib/kvorum": data]
        config = try config.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#"),
                line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces).hasPrefix("\"")
            else { return String(line) }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces).dropFirst().dropLast()
            let local = try rehearsal.substitute([String(value)], in: "10.0.0.1", mounts: mounts)[0]
            return String(line[..<equals]) + "= \"" + local + "\""
        }.joined(separator: "\n")
        let file = rehearsal.root.appendingPathComponent("kvorum.toml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let arguments = words.map { $0 == "/etc/kvorum/kvorum.toml" ? file.path : $0 }
        #expect(arguments == ["node", "--config", file.path])
        let process = try rehearsal.start("kv1", arguments)
        let httpPort = try rehearsal.port(8700, of: "10.0.0.1")
        let client = KvorumClient(
            baseURL: URL(string: "https://127.0.0.22:\(httpPort)")!, timeout: 2,
            credentials: ClientCredentials(caFile: certs.appendingPathComponent("ca.crt").path))
        try await rehearsal.waitUntilHealthy(process, client, name: "kv1")
    }
}
