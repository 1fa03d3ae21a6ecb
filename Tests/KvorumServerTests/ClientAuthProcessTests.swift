import Foundation
import Glibc
import KvorumCerts
import KvorumClient
import KvorumRouting
import KvorumServer
import KvorumTestKit
import Testing

/// A real `kvorum node` serving HTTPS with tokens and client certificates
/// configured: each kind of bad credential is refused with a clear error
/// while the node keeps serving good ones.
@Suite(.serialized)
struct ClientAuthProcessTests {
    @Test(.timeLimit(.minutes(3)))
    func credentialsAndRolesOverHTTPS() async throws {
        let node = try await SecureNode.start()
        defer { node.stop() }
        let tokens = node.tokens

        // No credential, and a wrong token: 401, the same answer whatever was wrong.
        let missing = try await node.failure(ClientCredentials(caFile: node.caFile)) { _ = try await $0.get("k") }
        #expect(missing.status == 401, "\(missing)")
        #expect(missing.message.contains("requires credentials"), "\(missing)")
        let wrong = try await node.failure(node.credentials(token: "kvt_wrong")) { _ = try await $0.get("k") }
        #expect(wrong.status == 401, "\(wrong)")
        #expect(wrong.message == "the token or client certificate is not accepted by this node", "\(wrong)")
        // /health stays open for probes.
        #expect(try await node.client(ClientCredentials(caFile: node.caFile)).health().status == "ok")

        // A read token writing, a write token leaving: 403 naming both roles.
        let reading = try await node.failure(node.credentials(token: tokens[.read]!)) {
            _ = try await $0.put("k", value: "v")
        }
        #expect(reading.status == 403, "\(reading)")
        #expect(
            reading.message == "this request needs the role 'write'; token 'reader' has the role 'read'",
            "\(reading)")
        let writing = try await node.failure(node.credentials(token: tokens[.write]!)) { _ = try await $0.leave() }
        #expect(writing.status == 403 && writing.message.contains("needs the role 'admin'"), "\(writing)")

        // The write token writes, the read token reads it.
        _ = try await node.client(node.credentials(token: tokens[.write]!)).put("k", value: "v1", w: 1)
        #expect(try await node.client(node.credentials(token: tokens[.read]!)).get("k", r: 1).values == ["v1"])

        // A client certificate listed with a role: alice is an admin.
        let alice = ClientCredentials(
            caFile: node.caFile, certificateFile: node.certs.files(.client("alice")).certificate.path,
            keyFile: node.certs.files(.client("alice")).key.path)
        #expect(try await node.client(alice).members().count == 1)
        _ = try await node.client(alice).put("k2", value: "from alice", w: 1)

        // A client trusting another CA: the node's certificate is from an unknown CA.
        let stranger = try await node.failure(ClientCredentials(caFile: node.otherCA.caCertificateFile.path)) {
            _ = try await $0.get("k")
        }
        #expect(stranger.status == nil && stranger.message.contains("unknown CA"), "\(stranger)")

        // An expired client certificate, and one from another CA: refused in the handshake.
        let expired = try await node.failure(node.clientCertificate(node.certs, "old")) { _ = try await $0.get("k") }
        #expect(expired.status == nil && expired.message.contains("expired"), "\(expired)")
        let foreign = try await node.failure(node.clientCertificate(node.otherCA, "alice")) {
            _ = try await $0.get("k")
        }
        #expect(foreign.status == nil && foreign.message.contains("not signed by the node's CA"), "\(foreign)")

        // Plain HTTP to the HTTPS port: the node closes the connection, and the client says what to try.
        let plainURL = URL(string: "http://127.0.0.1:\(node.url.port!)")!
        do {
            _ = try await KvorumClient(baseURL: plainURL, timeout: 5).health()
            Issue.record("plain HTTP was answered")
        } catch {
            #expect(error.status == nil && error.message.contains("use an https:// URL"), "\(error)")
        }

        // Through all of it the node served, and counted every refusal.
        #expect(try await node.client(node.credentials(token: tokens[.read]!)).get("k2", r: 1).values == ["from alice"])
        let text = try await node.metricsText(token: tokens[.monitor]!)
        #expect(text.contains("# HELP kvorum_http_auth_refused_total"), "\(text)")
        #expect(text.contains("kvorum_http_auth_refused_total{reason=\"missing\"} 1"), "\(text)")
        #expect(text.contains("kvorum_http_auth_refused_total{reason=\"unknown\"} 1"), "\(text)")
        #expect(text.contains("kvorum_http_auth_refused_total{reason=\"forbidden\"} 2"), "\(text)")
        // The log names the route and identity, never a token.
        let log = try String(contentsOf: node.log, encoding: .utf8)
        #expect(log.contains("refused request") && log.contains("token:writer"), "\(log)")
        for token in tokens.values { #expect(!log.contains(token)) }

        // The admin token may call /leave (the last member: the core answers, not the access check).
        do {
            _ = try await node.client(node.credentials(token: tokens[.admin]!)).leave()
        } catch {
            #expect(error.status != 401 && error.status != 403, "\(error)")
        }
    }

    /// `kvorum put/get` with `--ca` and `--token`, or the same from the environment.
    @Test(.timeLimit(.minutes(2)))
    func cliSpeaksHTTPSWithAToken() async throws {
        let node = try await SecureNode.start()
        defer { node.stop() }
        let url = node.url.absoluteString
        let put = try ChildProcess.run(
            Paths.kvorum,
            ["put", "k", "hello", "-w", "1", "--node", url, "--ca", node.caFile, "--token", node.tokens[.write]!],
            deadline: 20)
        #expect(put.status == 0, "\(put.stderr)")
        let get = try ChildProcess.run(
            Paths.kvorum, ["get", "k", "-r", "1", "--node", url],
            environment: ["KVORUM_CA": node.caFile, "KVORUM_TOKEN": node.tokens[.read]!], deadline: 20)
        #expect(get.status == 0 && get.stdout.hasPrefix("hello\n"), "\(get.stdout) \(get.stderr)")
        let refused = try ChildProcess.run(
            Paths.kvorum, ["put", "k", "x", "--node", url, "--ca", node.caFile, "--token", node.tokens[.read]!],
            deadline: 20)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("needs the role 'write'") && refused.stderr.contains("(HTTP 403)"),
            "\(refused.stderr)")
        let untrusted = try ChildProcess.run(
            Paths.kvorum, ["get", "k", "--node", url, "--token", node.tokens[.read]!], deadline: 20)
        #expect(untrusted.status != 0 && untrusted.stderr.contains("did not verify"), "\(untrusted.stderr)")
    }
}

/// One `kvorum node` (a cluster of one: quorums of 1) with `--certs-dir` and a config file listing a token
/// per role and the client certificate `alice` (admin). Certificates: the
/// node's (for 127.0.0.1), `alice`, an expired `old`; another CA with its
/// own `alice`.
final class SecureNode: @unchecked Sendable {
    let root: URL
    let certs: CertificateDirectory
    let otherCA: CertificateDirectory
    let tokens: [Role: String]
    let url: URL
    /// The port of the binary protocol, when it was asked for.
    let binaryPort: Int?
    let log: URL
    private let process: Process

    var caFile: String { certs.caCertificateFile.path }

    private init(
        root: URL, certs: CertificateDirectory, otherCA: CertificateDirectory, tokens: [Role: String],
        url: URL, binaryPort: Int?, log: URL, process: Process
    ) {
        self.root = root
        self.certs = certs
        self.otherCA = otherCA
        self.tokens = tokens
        self.url = url
        self.binaryPort = binaryPort
        self.log = log
        self.process = process
    }

    /// Starts the node; with `binary`, its binary protocol listens too.
    static func start(binary: Bool = false) async throws -> SecureNode {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kvorum-auth-\(UUID().uuidString)")
        let certs = CertificateDirectory(directory: root.appendingPathComponent("certs"))
        let otherCA = CertificateDirectory(directory: root.appendingPathComponent("other"))
        for directory in [certs, otherCA] {
            try FileManager.default.createDirectory(at: directory.directory, withIntermediateDirectories: true)
            try directory.createAuthority(lifetime: 30, overwrite: false)
            try directory.createClient(name: "alice", lifetime: 30, overwrite: false)
        }
        try certs.createNode(
            name: "node1", hosts: [try CertificateHost(parsing: "127.0.0.1")], lifetime: 30, overwrite: false)
        try certs.createClient(name: "old", lifetime: 1, overwrite: false, now: Date().addingTimeInterval(-3 * 86400))
        let names: [Role: String] = [.monitor: "dash", .read: "reader", .write: "writer", .admin: "boss"]
        var tokens: [Role: String] = [:]
        var config = ""
        for role in Role.allCases {
            let token = AccessToken.make()
            tokens[role] = token
            config += """
                [[auth.tokens]]
                name = "\(names[role]!)"
                role = "\(role.rawValue)"
                sha256 = "\(AccessToken.hexHash(token))"

                """
        }
        config += "[[auth.clients]]\nname = \"alice\"\nrole = \"admin\"\n"
        let ports = try LoopbackPorts.allocate(3)
        let configFile = root.appendingPathComponent("kvorum.toml")
        try Data(config.utf8).write(to: configFile)
        let log = root.appendingPathComponent("node.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = Paths.kvorum
        process.arguments =
            [
                "node", "--name", "node1", "--listen", "127.0.0.1:\(ports[0])", "--http", "127.0.0.1:\(ports[1])",
                "--data-dir", root.appendingPathComponent("data").path, "--config", configFile.path, "--certs-dir",
                certs.directory.path,
            ] + (binary ? ["--binary-listen", "127.0.0.1:\(ports[2])"] : [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        ProcessReaper.register(process)
        try output.close()
        let node = SecureNode(
            root: root, certs: certs, otherCA: otherCA, tokens: tokens,
            url: URL(string: "https://127.0.0.1:\(ports[1])")!, binaryPort: binary ? ports[2] : nil, log: log,
            process: process)
        let deadline = ContinuousClock.now + .seconds(20)
        let probe = node.client(ClientCredentials(caFile: node.caFile), timeout: 1)
        while (try? await probe.health().status) != "ok" {
            guard process.isRunning, ContinuousClock.now < deadline else {
                node.stop()
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw ClusterError(description: "the HTTPS node did not come up:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return node
    }

    func client(_ credentials: ClientCredentials, timeout: Double = 5) -> KvorumClient {
        KvorumClient(baseURL: url, timeout: timeout, credentials: credentials)
    }

    func credentials(token: String) -> ClientCredentials { ClientCredentials(caFile: caFile, token: token) }

    /// Trusting this node's CA, with the client certificate `name` of `directory`.
    func clientCertificate(_ directory: CertificateDirectory, _ name: String) -> ClientCredentials {
        let files = directory.files(.client(name))
        return ClientCredentials(caFile: caFile, certificateFile: files.certificate.path, keyFile: files.key.path)
    }

    /// The error a request must fail with.
    func failure(_ credentials: ClientCredentials, _ request: (KvorumClient) async throws -> Void) async throws
        -> KvorumClientError
    {
        do {
            try await request(client(credentials))
        } catch let error as KvorumClientError {
            return error
        }
        throw ClusterError(description: "the request succeeded")
    }

    /// `/metrics` as text.
    func metricsText(token: String) async throws -> String {
        let body = try await client(credentials(token: token)).send(.metrics).body
        return String(decoding: body, as: UTF8.self)
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        ProcessReaper.forget(process)
        try? FileManager.default.removeItem(at: root)
    }
}
