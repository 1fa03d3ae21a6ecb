import ArgumentParser
import Foundation
import KvorumClient

/// The options every client command takes: which nodes, how to print, and
/// the credentials for nodes that serve HTTPS and check access.
///
/// The nodes are `--node` (one), else `--nodes` (several, asked in order),
/// else `$KVORUM_NODES`, else every node of `./kvorum-data/cluster.json`,
/// else `http://127.0.0.1:8701`. A request goes to the next node when one
/// cannot serve it, as far as it is safe to repeat it (`Failover` in
/// KvorumClient; docs/cli.md, "Several nodes").
struct NodeOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The node's URL, http:// or https://, also host:port (a list of one; default: see --nodes).",
            valueName: "url"))
    var node: String?

    @Option(
        help: ArgumentHelp(
            "Nodes to ask in order, comma-separated: a request goes to the next one when a node is unreachable "
                + "(default: $KVORUM_NODES, else every node in ./kvorum-data/cluster.json, else "
                + "http://127.0.0.1:8701).",
            valueName: "url,url,..."))
    var nodes: String?

    @Flag(help: "Print the node's JSON answer verbatim.")
    var json = false

    @Option(help: "Seconds to wait for each node's answer.")
    var timeout: Double = 10

    @Option(
        help: ArgumentHelp(
            "The CA certificate that signed the node's certificate, for https:// (default: $KVORUM_CA).",
            valueName: "file"))
    var ca: String?

    @Option(help: ArgumentHelp("A client certificate to authenticate with (default: $KVORUM_CERT).", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("The client certificate's key (default: $KVORUM_KEY).", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("A bearer token to authenticate with (default: $KVORUM_TOKEN).", valueName: "token"))
    var token: String?

    /// The variable naming the nodes when no flag does.
    static let nodesVariable = "KVORUM_NODES"

    func validate() throws {
        if node != nil && nodes != nil { throw ValidationError("give --node or --nodes, not both") }
        if let node, NodeURLs.parse(node) == nil {
            throw ValidationError("--node must be a URL like http://127.0.0.1:8701 or https://node1.example:8701")
        }
        if let nodes, NodeURLs.parseList(nodes) == nil {
            throw ValidationError(
                "--nodes must be URLs separated by commas, like http://127.0.0.1:8701,http://127.0.0.1:8702")
        }
        if node == nil, nodes == nil, let listed = Self.environmentNodes, NodeURLs.parseList(listed) == nil {
            throw ValidationError(
                "\(Self.nodesVariable) must be URLs separated by commas, like "
                    + "http://127.0.0.1:8701,http://127.0.0.1:8702")
        }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number") }
    }

    /// Where the nodes come from.
    private enum Source {
        case flag, environment, clusterFile, fallback
    }

    /// `$KVORUM_NODES` unless unset or empty.
    private static var environmentNodes: String? {
        ProcessInfo.processInfo.environment[nodesVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The nodes in order, the credentials their record gives (a secure
    /// local cluster's CA and token), and where they came from.
    private var chosen: (urls: [URL], recorded: ClientCredentials, source: Source) {
        if let urls = node.flatMap(NodeURLs.parse).map({ [$0] }) ?? nodes.flatMap(NodeURLs.parseList) {
            return (urls, ClientCredentials(), .flag)
        }
        if let urls = Self.environmentNodes.flatMap(NodeURLs.parseList) {
            return (urls, ClientCredentials(), .environment)
        }
        let local = ClusterFile.defaultNodes(
            workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return (local.urls, local.credentials, local.found ? .clusterFile : .fallback)
    }

    /// A client of the chosen nodes. Each credential comes from its flag,
    /// else its `KVORUM_…` variable, else (nodes from the local cluster's
    /// record) the record.
    var client: KvorumClient {
        let (urls, recorded, _) = chosen
        let environment = ProcessInfo.processInfo.environment
        func given(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        let credentials = ClientCredentials(
            caFile: given(ca, "KVORUM_CA") ?? recorded.caFile, certificateFile: given(cert, "KVORUM_CERT"),
            keyFile: given(key, "KVORUM_KEY"), token: given(token, "KVORUM_TOKEN") ?? recorded.token)
        return KvorumClient(nodes: urls, timeout: timeout, credentials: credentials)
    }

    /// Runs `body` against the chosen nodes, failing over between them,
    /// reporting failures the CLI way (see `Console.reportingErrors`).
    func perform(_ body: (KvorumClient) async throws -> Void) async throws {
        let hint =
            chosen.source == .fallback
            ? "(start a local cluster with `kvorum cluster up`, or name nodes with --node URL or --nodes URL,URL,...)"
            : nil
        try await Console.reportingErrors(hint: hint) { try await body(client) }
    }

    /// Runs `body` against the first of the chosen nodes alone, never
    /// another: for `command`s about one node (its own copy of a key, its
    /// counters, its joining or leaving), which would mean something else
    /// on another node.
    func performOnOneNode(_ command: String, _ body: (KvorumClient) async throws -> Void) async throws {
        let (urls, _, source) = chosen
        let hint: String? =
            switch source {
            case .fallback:
                "(start a local cluster with `kvorum cluster up`, or name the node with --node URL)"
            case _ where urls.count > 1:
                "(`kvorum \(command)` asks one node, the first of the \(urls.count) given, and no other: "
                    + "name the node with --node URL)"
            default: nil
            }
        try await Console.reportingErrors(hint: hint) { try await body(client.firstNodeOnly) }
    }

    /// Prints a node's JSON answer as it came (with a final newline).
    func printVerbatim(_ response: HTTPResponse) {
        var text = String(decoding: response.body, as: UTF8.self)
        if !text.hasSuffix("\n") { text += "\n" }
        print(text, terminator: "")
    }
}

/// `kvorum get KEY`: every sibling of a key and the context covering them.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Read a key: its values (all siblings), then the context to write back with.",
        discussion: """
            Each value is one line: as it is, or as a quoted JSON string when it is empty, holds a control \
            character (a newline), begins or ends with whitespace, or begins with '"'. An absent key prints \
            'not found' on standard error and exits with status 1. With --output the one live value is written \
            to a file byte for byte (binary values included); a key with several siblings is an error then: \
            read them with --json.
            """
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: "The key.")
    var key: String

    @Option(name: [.customShort("r"), .customLong("r")], help: "Read quorum (the node's default: 2).")
    var r: Int?

    @Flag(help: "Only the node's own copy, without a quorum (GET /admin/local/{key}); no context.")
    var local = false

    @Option(help: "Write the value's raw bytes to this file; prints its content type and context.")
    var output: String?

    func validate() throws {
        if key.isEmpty { throw ValidationError("the key must not be empty") }
        if local && r != nil { throw ValidationError("--local reads no quorum: drop -r") }
        if output != nil && (local || options.json) {
            throw ValidationError("--output cannot go with --local or --json")
        }
    }

    func run() async throws {
        if local {
            try await options.performOnOneNode("get --local", read(from:))
        } else {
            try await options.perform(read(from:))
        }
    }

    /// Reads the key through `client` and prints it as the flags say.
    private func read(from client: KvorumClient) async throws {
        let found: Bool
        if let output {
            let read = try await client.getRaw(key, r: r)
            found = !read.siblings.isEmpty
            try Self.write(read, to: output)
        } else if local && options.json {
            let response = try await client.send(.localCopy(key: key))
            options.printVerbatim(response)
            found = (try? JSONDecoder().decode(LocalCopy.self, from: response.body))?.values.isEmpty == false
        } else if local {
            let copy = try await client.localCopy(key)
            for value in copy.values { print(PlainValue.line(value)) }
            found = !copy.values.isEmpty
        } else if options.json {
            let response = try await client.send(.get(key: key, r: r))
            options.printVerbatim(response)
            found = response.status != 404
        } else {
            let result = try await client.get(key, r: r)
            found = result.found
            if found {
                for value in result.values { print(PlainValue.line(value)) }
                print("context: \(result.context)")
            }
        }
        if !found {
            Console.error("not found")
            throw ExitCode(1)
        }
    }

    /// Writes the one live value of `read` to `path`, then prints its
    /// content type and the context; several siblings are an error.
    private static func write(_ read: RawRead, to path: String) throws {
        guard read.siblings.count <= 1 else {
            throw CLIError(
                "the key has \(read.siblings.count) siblings, not one value to write to a file: read them all with "
                    + "--json (each value also as base64), then write one back with --context to resolve them")
        }
        guard let value = read.siblings.first else { return }
        do {
            try Data(value.bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
        print("content-type: \(value.contentType)")
        print("context: \(read.context)")
    }
}

/// `kvorum put KEY VALUE`: writes a value.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write a value; prints the new version's context.",
        discussion: """
            Without --context the write supersedes nothing and becomes a sibling of whatever is stored; \
            with the context of a get it replaces every sibling that get returned; with the context a put \
            printed, the version that put wrote. Contexts are opaque tokens with a checksum: a damaged one is \
            refused and nothing is written. --file stores a file's bytes as they are (any bytes; a cart key \
            takes UTF-8 text only), with --content-type if given. A key past the node's sibling limit refuses \
            a write without --context (409): get it and write back with the context printed.
            """
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: "The key.")
    var key: String

    @Argument(help: "The value (UTF-8 text); '-' reads it from standard input, byte for byte.")
    var value: String?

    @Option(help: "Store this file's bytes as the value, byte for byte.")
    var file: String?

    @Option(
        help:
            "The value's content type, e.g. image/png (with --file; default: none, served as application/octet-stream)."
    )
    var contentType: String?

    @Option(name: [.customShort("w"), .customLong("w")], help: "Write quorum (the node's default: 2).")
    var w: Int?

    @Option(help: "The context of what you read, as get or put printed it.")
    var context: String?

    func validate() throws {
        if key.isEmpty { throw ValidationError("the key must not be empty") }
        if (value == nil) == (file == nil) { throw ValidationError("give the value, or --file PATH, but not both") }
        if contentType != nil && file == nil { throw ValidationError("--content-type goes with --file") }
    }

    func run() async throws {
        try await options.perform { client in
            let endpoint: Endpoint
            if let file {
                endpoint = .putBytes(
                    key: key, bytes: try Self.read(file), contentType: contentType, w: w, context: context)
            } else {
                let text = try value == "-" ? readStandardInput() : value!
                endpoint = .put(key: key, value: text, w: w, context: context)
            }
            let response = try await client.send(endpoint)
            if options.json {
                options.printVerbatim(response)
            } else {
                struct Body: Decodable { var metadata: String }
                let metadata = (try? JSONDecoder().decode(Body.self, from: response.body))?.metadata ?? ""
                print("context: \(metadata)")
            }
        }
    }

    private static func read(_ path: String) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CLIError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    private func readStandardInput() throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(validating: data, as: UTF8.self) else {
            throw CLIError("the value on standard input is not UTF-8 text")
        }
        return text
    }
}

/// `kvorum delete KEY`: deletes a key.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a key: write a tombstone; prints the tombstone's context.",
        discussion: """
            With --context (from get) the delete supersedes exactly what that read saw; a write concurrent \
            with it survives as a sibling. Without --context the node reads the key at quorum -w first and \
            deletes what it finds; a key with no live value prints 'not found' and exits with status 1, \
            writing nothing.
            """
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: "The key.")
    var key: String

    @Option(name: [.customShort("w"), .customLong("w")], help: "Write quorum (the node's default: 2).")
    var w: Int?

    @Option(help: "The context of what you read, as get printed it.")
    var context: String?

    func validate() throws {
        if key.isEmpty { throw ValidationError("the key must not be empty") }
    }

    func run() async throws {
        try await options.perform { client in
            do {
                let response = try await client.send(.delete(key: key, w: w, context: context))
                if options.json {
                    options.printVerbatim(response)
                } else {
                    struct Body: Decodable { var metadata: String }
                    let metadata = (try? JSONDecoder().decode(Body.self, from: response.body))?.metadata ?? ""
                    print("deleted; context: \(metadata)")
                }
            } catch let error as KvorumClientError where error.status == 404 {
                Console.error("not found")
                throw ExitCode(1)
            }
        }
    }
}

/// `kvorum lookup KEY`: where a key lives.
struct LookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Show a key's replicas in preference order (rank, name, peer address)."
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: "The key.")
    var key: String

    func validate() throws {
        if key.isEmpty { throw ValidationError("the key must not be empty") }
    }

    func run() async throws {
        try await options.perform { client in
            if options.json {
                options.printVerbatim(try await client.send(.lookup(key: key)))
            } else {
                let replicas = try await client.lookup(key)
                let width = replicas.map(\.name.count).max() ?? 0
                for (rank, replica) in replicas.enumerated() {
                    print(
                        "\(rank + 1)  " + replica.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                            + replica.address)
                }
            }
        }
    }
}

/// `kvorum members`: the cluster as one node sees it.
struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the cluster's members as the node sees them."
    )

    @OptionGroup var options: NodeOptions

    func run() async throws {
        try await options.perform { client in
            if options.json {
                options.printVerbatim(try await client.send(.members))
            } else {
                let members = try await client.members()
                let width = members.map(\.name.count).max() ?? 0
                for member in members {
                    print(member.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + member.address)
                }
            }
        }
    }
}

/// `kvorum join ADDRESS`: makes the node at --node join another cluster.
struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Make the node at --node join the cluster of the node at a peer address.",
        discussion: """
            The join completes in the background; `kvorum members` shows when it has. Asks the first of the \
            nodes given and never another (no failover).
            """
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: ArgumentHelp("The peer address of any member of the cluster to join.", valueName: "host:port"))
    var address: String

    func run() async throws {
        try await options.performOnOneNode("join") { client in
            if options.json {
                options.printVerbatim(try await client.send(.join(address: address)))
            } else {
                try await client.join(address: address)
                print("\(client.baseURL.absoluteString) is joining the cluster of \(address)")
            }
        }
    }
}

/// `kvorum leave`: makes the node at --node leave its cluster.
struct LeaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave",
        abstract: "Make the node at --node hand its data over and leave the cluster.",
        discussion: "Asks the first of the nodes given and never another (no failover)."
    )

    @OptionGroup var options: NodeOptions

    func run() async throws {
        try await options.performOnOneNode("leave") { client in
            if options.json {
                options.printVerbatim(try await client.send(.leave))
            } else {
                print("\(try await client.leave()) is leaving the cluster (handing its data over)")
            }
        }
    }
}

/// `kvorum remove NAME`: makes the node at --node take a dead member out of the cluster.
struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Make the node at --node take another member, one whose host is dead, out of the cluster.",
        discussion: """
            The member's copies are not handed over: the surviving replicas fill its keys' new replicas \
            (anti-entropy, read repair). Replace it with a node under a NEW name (docs/deploy.md).
            """
    )

    @OptionGroup var options: NodeOptions

    @Argument(help: ArgumentHelp("The name of the member to remove (as `kvorum members` lists it).", valueName: "name"))
    var name: String

    func run() async throws {
        try await options.perform { client in
            if options.json {
                options.printVerbatim(try await client.send(.remove(name: name)))
            } else {
                print("\(try await client.remove(name: name)) is removed from the cluster")
            }
        }
    }
}

/// `kvorum stats`: one node's counters.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the node's counters: records, hints pending, suspected peers, ring.",
        discussion: "Asks the first of the nodes given and never another (no failover)."
    )

    @OptionGroup var options: NodeOptions

    /// The documented fields, shown first and in this order.
    private static let order = [
        "name", "address", "records", "hintsPending", "suspectedPeers", "pendingOperations", "members", "ring",
    ]

    func run() async throws {
        try await options.performOnOneNode("stats") { client in
            if options.json {
                options.printVerbatim(try await client.send(.stats))
                return
            }
            let fields = try await client.stats().fields
            let keys =
                Self.order.filter { fields[$0] != nil } + fields.keys.filter { !Self.order.contains($0) }.sorted()
            let width = keys.map(\.count).max() ?? 0
            for key in keys {
                print("\(key):".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "\(fields[key]!)")
            }
        }
    }
}

/// `kvorum keys`: every live key of the cluster, page by page.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List the cluster's keys in byte order, one a line, asking page after page until the last.",
        discussion: """
            Each page is a coverage query (GET /kv): it asks one replica of every partition, so every node \
            that holds keys, once per page. The listing is eventually consistent: a key written or deleted \
            while it runs may or may not be listed. A key is printed as get prints a value (quoted when it \
            would not read back as one line). With --json, each page's JSON on a line of its own.
            """
    )

    @OptionGroup var options: NodeOptions

    @Option(help: "Only keys that start with this text.")
    var prefix: String?

    @Option(help: "Only keys after this one in byte order (a cursor: the last key of an earlier listing).")
    var after: String?

    @Option(help: "Keys per page asked of the node, 1 to 10000 (the node's default: 1000).")
    var limit: Int?

    func validate() throws {
        if let limit, !(1...10_000).contains(limit) { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() async throws {
        try await options.perform { client in
            var cursor = after
            repeat {
                let page: KeyListingPage
                if options.json {
                    let response = try await client.send(.keys(prefix: prefix, after: cursor, limit: limit))
                    options.printVerbatim(response)
                    page = try JSONDecoder().decode(KeyListingPage.self, from: response.body)
                } else {
                    page = try await client.keys(prefix: prefix, after: cursor, limit: limit)
                    for key in page.keys { print(PlainValue.line(key)) }
                }
                cursor = page.next
            } while cursor != nil
        }
    }
}
