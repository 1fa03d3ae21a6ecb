import Foundation
import KvorumContextToken
import KvorumTestKit
import Testing

@testable import KvorumClient

/// The `kvorum` CLI as a user runs it: a real process against real nodes.
@Suite(.serialized)
struct CLIProcessTests {
    /// Waiting for a node that accepts the connection and never answers
    /// costs next to no CPU, and the wait ends at the deadline (2 s) with
    /// the unreachable-node exit status. (The URLSession client spent about
    /// as much CPU as wall time here.)
    @Test(.timeLimit(.minutes(1)))
    func waitingForASilentNodeCostsNoCPU() throws {
        let listener = try #require(LoopbackPorts.openListener(port: 0, reuseAddress: false))
        defer { close(listener.descriptor) }
        let run = try ChildProcess.run(
            Paths.kvorum, ["get", "k", "--node", "127.0.0.1:\(listener.port)", "--timeout", "2"], deadline: 20)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("no answer within 2 s"), "\(run.stderr)")
        #expect(run.seconds >= 2 && run.seconds < 10, "waited \(run.seconds) s")
        let cpu = try #require(run.cpuSeconds)
        #expect(cpu < 0.25 * run.seconds, "\(cpu) s of CPU in \(run.seconds) s")
    }

    /// `--version` prints the version.
    @Test func version() throws {
        let run = try ChildProcess.run(Paths.kvorum, ["--version"], deadline: 20)
        #expect(run.status == 0)
        #expect(run.stdout == KvorumVersion.current + "\n", "\(run.stdout)")
    }

    /// `kvorum storage-bench` fills a store to each size, prints one row per
    /// size (the size, then its figures, writes/s and CPU positive), removes
    /// its directory, and refuses sizes out of order.
    @Test(.timeLimit(.minutes(1)))
    func storageBenchPrintsARowPerSize() throws {
        let directory = NSTemporaryDirectory() + "kvorum-storage-bench-test-\(getpid())"
        let run = try ChildProcess.run(
            Paths.kvorum,
            ["storage-bench", "--sizes", "2000,5000", "--writes", "400", "--group", "2", "--directory", directory],
            deadline: 50)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").compactMap { Int($0) } }
        #expect(rows.map(\.first) == [2000, 5000], "\(run.stdout)")
        for row in rows {
            #expect(row.count == 5 && row[1] > 0 && row[2] > 0, "\(run.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory))
        let refused = try ChildProcess.run(Paths.kvorum, ["storage-bench", "--sizes", "5000,2000"], deadline: 20)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("ascending order"), "\(refused.stderr)")
    }

    /// `--generate-completion-script` writes a script for bash, zsh and fish
    /// that completes the client commands' options (`--nodes` among them),
    /// and the committed man page (scripts/man.sh) documents `--nodes`.
    @Test func completionScriptsAndManPage() throws {
        for shell in ["bash", "zsh", "fish"] {
            let run = try ChildProcess.run(Paths.kvorum, ["--generate-completion-script", shell], deadline: 20)
            #expect(run.status == 0, "\(shell): \(run.stderr)")
            #expect(run.stdout.contains("--nodes") && run.stdout.contains("cluster"), "\(shell)")
        }
        let page = try String(
            contentsOf: Paths.repository.appendingPathComponent("docs/man/kvorum.1"), encoding: .utf8)
        #expect(page.contains(".Nm kvorum") && page.contains("Fl -nodes Ar url,url,..."))
    }

    /// Plain output has one line per sibling: a value with a newline, an
    /// empty value and one with a leading quote are printed quoted; `put`
    /// and `get` both print `context:`, and the context a put printed
    /// supersedes the version it wrote.
    @Test(.timeLimit(.minutes(1)))
    func plainOutputHasOneLinePerSibling() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let node = cluster.nodes[0].httpURL.absoluteString
        func kvorum(_ arguments: [String], input: String = "") throws -> ChildProcess.Result {
            let run = try ChildProcess.run(Paths.kvorum, arguments + ["--node", node], input: input, deadline: 20)
            #expect(run.status == 0, "kvorum \(arguments): \(run.stderr)")
            return run
        }
        let written = try kvorum(["put", "k", "two\nlines"]).stdout
        #expect(written.hasPrefix("context: ") && written.hasSuffix("\n"), "\(written)")
        _ = try kvorum(["put", "k", "-"], input: "")
        _ = try kvorum(["put", "k", "\"quoted\""])
        _ = try kvorum(["put", "k", "plain text"])
        var lines = try kvorum(["get", "k"]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.removeLast() == "")
        let context = try #require(lines.last)
        lines.removeLast()
        #expect(context.hasPrefix("context: "))
        #expect(Set(lines) == [#""two\nlines""#, #""""#, #""\"quoted\"""#, "plain text"], "\(lines)")

        let token = String(written.dropFirst("context: ".count).dropLast())
        _ = try kvorum(["put", "k", "replaced", "--context", token])
        lines = try kvorum(["get", "k"]).stdout.split(separator: "\n").dropLast()
        #expect(Set(lines) == [#""""#, #""\"quoted\"""#, "plain text", "replaced"], "\(lines)")

    }

    /// `bench` names its nodes with `--node`, in the same forms as the other
    /// commands (a URL or host:port, repeatable); `--url` is gone.
    @Test(.timeLimit(.minutes(1)))
    func benchTakesNode() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let options = [
            "--workload", "W", "--records", "5", "--operations", "20", "--concurrency", "1", "--warmup", "0",
        ]
        let good = try ChildProcess.run(
            Paths.kvorum,
            [
                "bench", "--node", cluster.nodes[0].httpURL.absoluteString, "--node",
                "127.0.0.1:\(cluster.nodes[1].httpPort)",
            ]
                + options, deadline: 30)
        #expect(good.status == 0, "\(good.stderr)")
        let old = try ChildProcess.run(
            Paths.kvorum, ["bench", "--url", cluster.nodes[0].httpURL.absoluteString] + options, deadline: 30)
        #expect(old.status != 0)
        let bad = try ChildProcess.run(Paths.kvorum, ["bench", "--node", "not a url"] + options, deadline: 30)
        #expect(bad.status != 0 && bad.stderr.contains("--node must be"), "\(bad.stderr)")
    }

    /// An invented context (the seed's metadata text, as a user might type
    /// it) and a token with one character changed are refused with `400`,
    /// over HTTP and through the CLI, and write nothing: the sibling they
    /// would have superseded survives.
    @Test(.timeLimit(.minutes(1)))
    func damagedContextsAreRefusedAndWriteNothing() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let node1 = cluster.nodes[0]
        let written = try await node1.client().put("cart", value: "milk", w: 3)
        // An invented context that covers every write of the actor that
        // wrote `written` (its counter 999): it would supersede the sibling.
        let metadata = ContextToken.decode(written) ?? written
        let actor = try #require(metadata.split(separator: ":").first)
        let invented = "\(actor):999"
        var damaged = Array(written.utf8)
        damaged[damaged.count / 2] =
            damaged[damaged.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let refusal = KvorumClientError(status: 400, message: ContextToken.damagedMessage)
        for context in [invented, String(decoding: damaged, as: UTF8.self)] {
            await #expect(throws: refusal) {
                try await node1.client().put("cart", value: "eggs", w: 2, context: context)
            }
        }
        let cli = try ChildProcess.run(
            Paths.kvorum, ["put", "cart", "eggs", "--context", invented, "--node", node1.httpURL.absoluteString],
            deadline: 20)
        #expect(cli.status == 1, "\(cli.stdout)")
        #expect(cli.stderr.contains(ContextToken.damagedMessage), "\(cli.stderr)")

        let read = try await node1.client().get("cart", r: 3)
        #expect(read.values == ["milk"] && read.metadata == [written])
        let replaced = try await node1.client().put("cart", value: "milk,eggs", w: 2, context: read.context)
        #expect(try await node1.client().get("cart", r: 2).metadata == [replaced])
    }

    /// `put --file` stores a file's bytes (every byte value) with its
    /// `--content-type`, `get --output` writes them back byte for byte; with
    /// two siblings `get --output` refuses and points to `--json`; `delete`
    /// removes the key, and deleting it again says "not found". A blind put
    /// past the sibling limit shows the node's 409 message.
    @Test(.timeLimit(.minutes(1)))
    func binaryFilesAndDelete() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: ["--sibling-limit", "2"])
        defer { cluster.shutdown() }
        let node = cluster.nodes[0].httpURL.absoluteString
        func kvorum(_ arguments: [String]) throws -> ChildProcess.Result {
            try ChildProcess.run(Paths.kvorum, arguments + ["--node", node], deadline: 20)
        }
        let directory = cluster.root.appendingPathComponent("cli-files")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let input = directory.appendingPathComponent("in.bin")
        let output = directory.appendingPathComponent("out.bin")
        let every = Data((0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) })
        try every.write(to: input)

        let put = try kvorum(["put", "blob", "--file", input.path, "--content-type", "image/x-test"])
        #expect(put.status == 0 && put.stdout.hasPrefix("context: "), "\(put.stderr)")
        let get = try kvorum(["get", "blob", "--output", output.path])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout.hasPrefix("content-type: image/x-test\ncontext: "), "\(get.stdout)")
        #expect(try Data(contentsOf: output) == every)

        #expect(try kvorum(["put", "blob", "second"]).status == 0)
        let siblings = try kvorum(["get", "blob", "--output", output.path])
        #expect(siblings.status == 1)
        #expect(siblings.stderr.contains("2 siblings") && siblings.stderr.contains("--json"), "\(siblings.stderr)")
        let crowded = try kvorum(["put", "blob", "third"])
        #expect(crowded.status == 1)
        #expect(crowded.stderr.contains("write back") && crowded.stderr.contains("HTTP 409"), "\(crowded.stderr)")

        let deleted = try kvorum(["delete", "blob", "-w", "2"])
        #expect(deleted.status == 0 && deleted.stdout.hasPrefix("deleted; context: "), "\(deleted.stderr)")
        let gone = try kvorum(["get", "blob"])
        #expect(gone.status == 1 && gone.stderr.contains("not found"), "\(gone.stderr)")
        let again = try kvorum(["delete", "blob"])
        #expect(again.status == 1 && again.stderr.contains("not found"), "\(again.stderr)")
    }

    /// `kvorum certs`: the leaf commands refuse to run before `create-ca`,
    /// then the CA, a node and a client certificate are made (the CA key
    /// kept apart from the directory), `list` shows each one's subject,
    /// hosts, issuer and expiry, and nothing is replaced without
    /// `--overwrite`.
    @Test func certsMakesAndListsCertificates() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kvorum-cli-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = ["--certs-dir", root.appendingPathComponent("certs").path]
        let caKey = ["--ca-key", root.appendingPathComponent("safe/ca.key").path]
        func certs(_ arguments: [String]) throws -> ChildProcess.Result {
            let options = arguments == ["list"] ? directory : directory + caKey
            return try ChildProcess.run(Paths.kvorum, ["certs"] + arguments + options, deadline: 20)
        }

        let early = try certs(["create-node", "node1", "--host", "127.0.0.1"])
        #expect(early.status == 1, "\(early.stdout)")
        #expect(early.stderr.contains("run `kvorum certs create-ca` first"), "\(early.stderr)")

        for arguments in [
            ["create-ca"],
            ["create-node", "node1", "--host", "127.0.0.1", "--host", "localhost", "--host", "node1.example"],
            ["create-client", "alice", "--lifetime", "30"],
        ] {
            let run = try certs(arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("certs").path)
        #expect(Set(files) == ["ca.crt", "node.crt", "node.key", "client.alice.crt", "client.alice.key"])
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("safe/ca.key").path))

        let list = try certs(["list"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { !$0.hasPrefix(" ") } == ["ca.crt", "client.alice.crt", "node.crt"], "\(list.stdout)")
        #expect(lines.contains("  subject: CN=node1,O=Kvorum"), "\(list.stdout)")
        #expect(lines.contains("  subject: CN=alice,O=Kvorum"), "\(list.stdout)")
        #expect(lines.contains("  hosts:   IP:127.0.0.1, DNS:localhost, DNS:node1.example"), "\(list.stdout)")
        #expect(lines.filter { $0 == "  issuer:  CN=Kvorum CA,O=Kvorum" }.count == 3, "\(list.stdout)")
        let expiries = lines.filter { $0.hasPrefix("  expires: ") }.compactMap {
            ISO8601DateFormatter().date(from: String($0.dropFirst("  expires: ".count)))
        }
        try #require(expiries.count == 3, "\(list.stdout)")
        let clientExpiry = Date().addingTimeInterval(30 * 86400).timeIntervalSince(expiries[1])
        #expect(abs(clientExpiry) < 60, "30 days from now: \(list.stdout)")

        let again = try certs(["create-client", "alice"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists; pass --overwrite"), "\(again.stderr)")
        let replaced = try certs(["create-client", "alice", "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
    }
}
