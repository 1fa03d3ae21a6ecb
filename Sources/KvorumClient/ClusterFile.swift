import Foundation

/// The record of a local cluster that `kvorum cluster up` keeps in
/// `DIR/cluster.json`: which nodes it started, where they listen and their
/// process ids. The CLI finds its default node through it, `cluster down`
/// stops the processes it names, and the next `cluster up` reuses its ports.
public struct ClusterFile: Codable, Sendable, Equatable {
    /// One node of the cluster.
    public struct Node: Codable, Sendable, Equatable {
        /// The node's name, `node1` … `nodeN`.
        public var name: String
        /// The peer address (`host:port`), also its address in the ring.
        public var peer: String
        /// The URL of its HTTP API, e.g. `http://127.0.0.1:8701` (`https://…`
        /// when the cluster is secure).
        public var http: String
        /// Its data directory (absolute).
        public var dataDir: String
        /// The process id of its last start.
        public var pid: Int32

        /// A node record with the given fields.
        public init(name: String, peer: String, http: String, dataDir: String, pid: Int32) {
            self.name = name
            self.peer = peer
            self.http = http
            self.dataDir = dataDir
            self.pid = pid
        }

        /// The port of the peer address.
        public var peerPort: Int? {
            peer.split(separator: ":").last.flatMap { Int($0) }
        }

        /// The port of the HTTP URL.
        public var httpPort: Int? { URL(string: http)?.port }
    }

    /// How CLI commands reach a secure cluster (`cluster up --secure`): the
    /// CA to verify the nodes' `https` URLs with and a file holding an
    /// admin token (the token itself stays out of `cluster.json`, in a file
    /// only its owner can read). Paths are absolute.
    public struct Security: Codable, Sendable, Equatable {
        /// The cluster CA's certificate (`ca.crt`).
        public var caFile: String
        /// A file whose first line is a bearer token with the `admin` role.
        public var tokenFile: String?

        public init(caFile: String, tokenFile: String?) {
            self.caFile = caFile
            self.tokenFile = tokenFile
        }

        /// The credentials a CLI command uses: the CA, and the token read
        /// from its file (none if the file cannot be read).
        public var credentials: ClientCredentials {
            let token = tokenFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
                .flatMap { $0.split(whereSeparator: \.isNewline).first.map(String.init) }
            return ClientCredentials(caFile: caFile, token: token)
        }
    }

    /// The nodes, node1 first.
    public var nodes: [Node]
    /// The process id of the `kvorum cluster up` that supervises the nodes.
    public var supervisor: Int32?
    /// Set when the nodes serve HTTPS; nil for a plain-HTTP cluster.
    public var security: Security?

    /// A record of the given nodes.
    public init(nodes: [Node], supervisor: Int32? = nil, security: Security? = nil) {
        self.nodes = nodes
        self.supervisor = supervisor
        self.security = security
    }

    /// The file's name inside the cluster's data directory.
    public static let fileName = "cluster.json"
    /// The data directory `cluster up` uses unless told otherwise, relative
    /// to the working directory.
    public static let defaultDirectory = "kvorum-data"
    /// The node the CLI talks to when there is no cluster record.
    public static let fallbackNodeURL = URL(string: "http://127.0.0.1:8701")!

    /// The record's location in a data directory.
    public static func location(in directory: URL) -> URL {
        directory.appendingPathComponent(fileName)
    }

    /// The record in `directory`, or nil if there is none.
    ///
    /// - Throws: if the file exists but cannot be read or is not a record.
    public static func read(from directory: URL) throws -> ClusterFile? {
        let url = location(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try JSONDecoder().decode(ClusterFile.self, from: Data(contentsOf: url))
    }

    /// Writes the record into `directory` (atomically, as pretty JSON).
    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        try data.write(to: Self.location(in: directory), options: .atomic)
    }

    /// The node the CLI talks to by default: the first node of the cluster
    /// recorded in `WORKING_DIRECTORY/kvorum-data/cluster.json`, else
    /// `http://127.0.0.1:8701` (also when the record is unreadable).
    public static func defaultNodeURL(workingDirectory: URL) -> URL {
        defaultNode(workingDirectory: workingDirectory).url
    }

    /// The default node (see `defaultNodeURL`) with the credentials of its
    /// cluster's record: for a secure cluster its CA and admin token.
    public static func defaultNode(workingDirectory: URL) -> (url: URL, credentials: ClientCredentials) {
        let nodes = defaultNodes(workingDirectory: workingDirectory)
        return (nodes.urls[0], nodes.credentials)
    }

    /// Every node of the cluster recorded in
    /// `WORKING_DIRECTORY/kvorum-data/cluster.json`, node1 first, with the
    /// record's credentials (`found` true); else `http://127.0.0.1:8701`
    /// alone (`found` false), also when the record is unreadable or one of
    /// its URLs is not a URL.
    public static func defaultNodes(workingDirectory: URL) -> (
        urls: [URL], credentials: ClientCredentials, found: Bool
    ) {
        let directory = workingDirectory.appendingPathComponent(defaultDirectory)
        let fallback = ([fallbackNodeURL], ClientCredentials(), false)
        guard let record = try? read(from: directory), !record.nodes.isEmpty else { return fallback }
        var urls: [URL] = []
        for node in record.nodes {
            guard let url = URL(string: node.http), url.scheme != nil, url.host != nil else { return fallback }
            urls.append(url)
        }
        return (urls, record.security?.credentials ?? ClientCredentials(), true)
    }
}
