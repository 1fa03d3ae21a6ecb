import Foundation
import KvorumRouting
import Testing

@testable import KvorumServer

/// Client authentication without a network: tokens and their hashes, the
/// `[auth]` tables of the config file, and the decisions on each request.
struct ClientAuthTests {
    /// Tokens are `kvt_` + 43 base64url characters (32 random bytes), each
    /// new one different; the hash is SHA-256 of the text.
    @Test func tokensAreLongRandomValues() {
        let tokens = (0..<20).map { _ in AccessToken.make() }
        #expect(Set(tokens).count == 20)
        for token in tokens {
            #expect(token.hasPrefix("kvt_") && token.count == 4 + 43, "\(token)")
            #expect(token.dropFirst(4).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        #expect(
            AccessToken.hexHash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(AccessToken.hash("abc").count == 32)
        #expect(AccessToken.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!AccessToken.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!AccessToken.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    static let sample = """
        name = "n1"

        [[auth.tokens]]
        name = "ci"
        role = "write"
        sha256 = "\(AccessToken.hexHash("kvt_write"))"

        [[auth.tokens]]
        name = "dash"
        role = "monitor"
        sha256 = "\(AccessToken.hexHash("kvt_monitor").uppercased())"

        [[auth.clients]]
        name = "alice"
        role = "admin"
        """

    @Test func configListsTokensAndClients() throws {
        let access = try AccessList(configFile: Self.sample, path: "k.toml")
        #expect(
            access.tokens == [
                .init(name: "ci", role: .write, sha256: AccessToken.hash("kvt_write")),
                .init(name: "dash", role: .monitor, sha256: AccessToken.hash("kvt_monitor")),
            ])
        #expect(access.clients == [.init(name: "alice", role: .admin)])
        // The settings ignore the [auth] tables, and a file without them lists nobody.
        #expect(try SettingsLayer(configFile: Self.sample, path: "k.toml").name == "n1")
        #expect(try AccessList(configFile: "name = \"n1\"\n", path: "k.toml").isEmpty)
    }

    /// Every mistake is named with the file and the key.
    @Test func configMistakesNameFileAndKey() {
        let hash = AccessToken.hexHash("x")
        let cases: [(String, String)] = [
            (
                "[[auth.tokens]]\nname = \"ci\"\nrole = \"root\"\nsha256 = \"\(hash)\"\n",
                "k.toml: 'auth.tokens[0].role' must be one of monitor, read, write, admin, got 'root'"
            ),
            (
                "[[auth.tokens]]\nname = \"ci\"\nrole = \"read\"\nsha256 = \"abc\"\n",
                "k.toml: 'auth.tokens[0].sha256' must be the 64 hex digits of the token's SHA-256"
            ),
            (
                "[[auth.tokens]]\nname = \"ci\"\nrole = \"read\"\nsha256 = \"\(hash.dropLast())g\"\n",
                "k.toml: 'auth.tokens[0].sha256' must be the 64 hex digits"
            ),
            (
                "[[auth.tokens]]\nname = \"ci\"\nrole = \"read\"\n",
                "k.toml: 'auth.tokens[0]' needs a non-empty 'sha256'"
            ),
            (
                "[[auth.clients]]\nname = \"a\"\nrole = \"read\"\n[[auth.clients]]\nname = \"b\"\nrole = \"boss\"\n",
                "k.toml: 'auth.clients[1].role' must be one of"
            ),
            (
                "[[auth.clients]]\nname = \"a\"\nrole = \"read\"\ntoken = \"t\"\n",
                "k.toml: unknown key 'auth.clients[0].token'"
            ),
            ("[auth]\nusers = 1\n", "k.toml: unknown key 'auth.users'"),
            ("auth = 3\n", "k.toml: 'auth' must be a table"),
            ("[[auth.clients]]\nname = \"a\"\nrole = 2\n", "k.toml: 'auth.clients[0].role' must be a string"),
            (
                "[[auth.clients]]\nname = \"a\"\nrole = \"read\"\n[[auth.clients]]\nname = \"a\"\nrole = \"write\"\n",
                "k.toml: two auth.clients are named 'a'"
            ),
        ]
        for (text, expected) in cases {
            do {
                _ = try AccessList(configFile: text, path: "k.toml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(error.description)")
            }
        }
    }

    /// Resolving a node's settings reads the [auth] tables and `certs-dir`.
    @Test func settingsCarryAccessAndCertsDir() throws {
        let text = Self.sample.replacingOccurrences(
            of: "name = \"n1\"\n",
            with: """
                name = "n1"
                listen = "127.0.0.1:7001"
                http = "127.0.0.1:8001"
                data-dir = "/tmp/x"
                certs-dir = "/etc/kvorum/certs"

                """)
        let settings = try ServerSettings.resolve(
            configFile: ("k.toml", text), environment: [:], flags: SettingsLayer())
        #expect(settings.access.tokens.count == 2 && settings.access.clients.count == 1)
        #expect(settings.certsDir == "/etc/kvorum/certs")
        let overridden = try ServerSettings.resolve(
            configFile: ("k.toml", text), environment: ["KVORUM_CERTS_DIR": "/env/certs"], flags: SettingsLayer())
        #expect(overridden.certsDir == "/env/certs")
    }

    static let access = AccessList(
        tokens: [
            .init(name: "reader", role: .read, sha256: AccessToken.hash("kvt_r")),
            .init(name: "writer", role: .write, sha256: AccessToken.hash("kvt_w")),
            .init(name: "boss", role: .admin, sha256: AccessToken.hash("kvt_a")),
        ],
        clients: [.init(name: "alice", role: .admin), .init(name: "probe", role: .monitor)])

    @Test func decisions() {
        let auth = Authenticator(access: Self.access, tls: true)
        func decide(_ needed: Role?, _ header: String?, cn: String? = nil) -> Authenticator.Decision {
            auth.decide(needed: needed, authorization: header, certificateName: cn)
        }
        #expect(decide(nil, nil) == .allowed(nil))
        #expect(decide(.monitor, nil) == .refused(.missing))
        #expect(decide(.read, "Bearer kvt_nope") == .refused(.unknown))
        #expect(decide(.read, "Basic a3Z0X3I=") == .refused(.unknown))
        #expect(decide(.read, "Bearer ") == .refused(.unknown))
        let reader = Authenticator.Identity(kind: .token, name: "reader", role: .read)
        #expect(decide(.read, "Bearer kvt_r") == .allowed(reader))
        #expect(decide(.read, "bearer  kvt_r ") == .allowed(reader))
        #expect(decide(.write, "Bearer kvt_r") == .refused(.forbidden(identity: reader, needed: .write)))
        let writer = Authenticator.Identity(kind: .token, name: "writer", role: .write)
        #expect(decide(.admin, "Bearer kvt_w") == .refused(.forbidden(identity: writer, needed: .admin)))
        #expect(decide(.admin, "Bearer kvt_a") == .allowed(.init(kind: .token, name: "boss", role: .admin)))
        // A client certificate, by its common name; a token, when sent, decides.
        #expect(decide(.admin, nil, cn: "alice") == .allowed(.init(kind: .certificate, name: "alice", role: .admin)))
        let probe = Authenticator.Identity(kind: .certificate, name: "probe", role: .monitor)
        #expect(decide(.read, nil, cn: "probe") == .refused(.forbidden(identity: probe, needed: .read)))
        #expect(decide(.read, nil, cn: "mallory") == .refused(.unknown))
        #expect(decide(.read, "Bearer kvt_x", cn: "alice") == .refused(.unknown))
    }

    /// Without TLS and without credentials the node is open; with either,
    /// access is checked (HTTPS with nobody listed refuses everyone).
    @Test func whenAccessIsChecked() {
        #expect(!Authenticator(access: AccessList(), tls: false).enforced)
        #expect(Authenticator(access: AccessList(), tls: true).enforced)
        #expect(Authenticator(access: Self.access, tls: false).enforced)
        let open = Authenticator(access: AccessList(), tls: false)
        #expect(open.decide(needed: .admin, authorization: nil, certificateName: nil) == .allowed(nil))
        let plain = Authenticator(access: Self.access, tls: false)
        #expect(plain.decide(needed: .read, authorization: nil, certificateName: nil) == .refused(.missing))
    }
}
