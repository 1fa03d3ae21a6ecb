import ArgumentParser
import Foundation
import KvorumCerts
import KvorumRouting
import KvorumServer

/// `kvorum certs …`: the cluster's CA and the node and client certificates
/// it signs, as PEM files in one directory, and bearer tokens for the HTTP
/// API (see docs/security.md). A node given `--certs-dir` serves HTTPS.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make and list the cluster's TLS certificates, and bearer tokens for the HTTP API.",
        subcommands: [CreateCA.self, CreateNode.self, CreateClient.self, CreateToken.self, List.self]
    )

    /// `--certs-dir`, shared by every `certs` command.
    struct Location: ParsableArguments {
        @Option(help: ArgumentHelp("The directory of certificates and keys.", valueName: "dir"))
        var certsDir = "certs"

        var url: URL { URL(fileURLWithPath: certsDir) }
    }

    /// `--ca-key`, `--lifetime` and `--overwrite`, shared by the `create-…`
    /// commands.
    struct Making: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "The CA's private key (default: DIR/ca.key). Keep it off the nodes: it can sign any certificate the cluster trusts.",
                valueName: "path"))
        var caKey: String?

        @Option(help: ArgumentHelp("Days the certificate stays valid (default: \(Lifetime.hint)).", valueName: "days"))
        var lifetime: Int?

        @Flag(help: "Replace files that already exist (otherwise they are kept and the command fails).")
        var overwrite = false

        /// The certificate directory with the chosen CA key.
        func directory(_ location: Location) -> CertificateDirectory {
            CertificateDirectory(directory: location.url, caKey: caKey.map { URL(fileURLWithPath: $0) })
        }
    }

    /// Default lifetimes: the CA outlives many rotations of the node and
    /// client certificates it signs.
    enum Lifetime {
        static let authority = 3650
        static let leaf = 365
        static let hint = "\(authority) for the CA, \(leaf) for nodes and clients"
    }

    struct CreateCA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-ca", abstract: "Make the cluster's CA: ca.crt in the directory and its key.")

        @OptionGroup var location: Location
        @OptionGroup var making: Making

        func run() throws {
            try reporting {
                let directory = making.directory(location)
                try directory.createAuthority(
                    lifetime: making.lifetime ?? Lifetime.authority, overwrite: making.overwrite)
                Console.say("wrote \(directory.caCertificateFile.path) and \(directory.caKeyFile.path)")
            }
        }
    }

    struct CreateNode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-node",
            abstract: "Make node.crt and node.key for a node, naming every host and IP address it is reached by.")

        @Argument(help: "The node's name (the certificate's CN).")
        var name: String

        @Option(
            name: .customLong("host"),
            help: ArgumentHelp("A DNS name or IP address the node is reached by; repeat for each.", valueName: "host"))
        var hosts: [String] = []

        @OptionGroup var location: Location
        @OptionGroup var making: Making

        func validate() throws {
            guard !hosts.isEmpty else { throw ValidationError("give at least one --host the node is reached by") }
        }

        func run() throws {
            try reporting {
                let directory = making.directory(location)
                let parsed = try hosts.map(CertificateHost.init(parsing:))
                try directory.createNode(
                    name: name, hosts: parsed, lifetime: making.lifetime ?? Lifetime.leaf,
                    overwrite: making.overwrite)
                let files = directory.files(.node)
                Console.say("wrote \(files.certificate.path) and \(files.key.path)")
            }
        }
    }

    struct CreateClient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-client", abstract: "Make client.NAME.crt and client.NAME.key for a user.")

        @Argument(help: "The user's name (the certificate's CN).")
        var name: String

        @OptionGroup var location: Location
        @OptionGroup var making: Making

        func run() throws {
            try reporting {
                let directory = making.directory(location)
                try directory.createClient(
                    name: name, lifetime: making.lifetime ?? Lifetime.leaf, overwrite: making.overwrite)
                let files = directory.files(.client(name))
                Console.say("wrote \(files.certificate.path) and \(files.key.path)")
            }
        }
    }

    /// `kvorum certs create-token NAME --role ROLE`: a bearer token for the
    /// HTTP API. Nothing is written: the token is printed once, with the
    /// config lines that list its hash.
    struct CreateToken: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-token",
            abstract: "Make a bearer token for the HTTP API: prints it once, and the config lines listing its hash.",
            discussion: """
                The first line of the output is the token: give it to the client (--token or KVORUM_TOKEN). \
                The node stores only its SHA-256: paste the [[auth.tokens]] lines into each node's config file \
                and restart the node. The token is not kept anywhere else; a lost token is replaced by a new one.
                """)

        @Argument(help: "A name for the token, shown in the nodes' logs (e.g. the client's or the job's name).")
        var name: String

        @Option(help: "What the token may do: monitor, read, write or admin (each includes those before it).")
        var role: Role

        func validate() throws {
            guard !name.isEmpty, !name.contains("\""), !name.contains("\n") else {
                throw ValidationError("the name must be non-empty and hold no quote or newline")
            }
        }

        func run() {
            let token = AccessToken.make()
            print(token)
            print("# Give the token above to the client (--token or KVORUM_TOKEN); it is shown only this once.")
            print("# Add these lines to each node's config file (--config):")
            print("[[auth.tokens]]")
            print("name = \"\(name)\"")
            print("role = \"\(role.rawValue)\"")
            print("sha256 = \"\(AccessToken.hexHash(token))\"")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Show each certificate's file, subject, hosts, issuer and expiry.")

        @OptionGroup var location: Location

        func run() throws {
            try reporting {
                let format = ISO8601DateFormatter()
                for listed in try CertificateDirectory(directory: location.url).list() {
                    Console.say(listed.file)
                    Console.say("  subject: \(listed.subject)")
                    let hosts = listed.hosts.map(\.description).joined(separator: ", ")
                    Console.say("  hosts:   \(hosts.isEmpty ? "(none)" : hosts)")
                    Console.say("  issuer:  \(listed.issuer)")
                    Console.say("  expires: \(format.string(from: listed.expires))")
                }
            }
        }
    }
}

/// Runs `body`; a ``CertificateError`` becomes `error: …` on standard error
/// and exit status 1.
private func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CertificateError {
        Console.error("error: \(error)")
        throw ExitCode(1)
    }
}

extension Role: ExpressibleByArgument {}
