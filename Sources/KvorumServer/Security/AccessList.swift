import KvorumRouting
import TOMLKit

/// Who may use a node's HTTP API, from the `[auth]` tables of its config
/// file (docs/security.md):
///
///     [[auth.tokens]]
///     name = "ci"          # for logs
///     role = "write"
///     sha256 = "…"         # hex SHA-256 of the token; the token itself is never stored
///
///     [[auth.clients]]
///     name = "alice"       # a client certificate's common name
///     role = "admin"
public struct AccessList: Sendable, Equatable {
    /// A bearer token, known by its hash.
    public struct Token: Sendable, Equatable {
        public var name: String
        public var role: Role
        /// The SHA-256 of the token's text (its UTF-8 bytes), 32 bytes.
        public var sha256: [UInt8]

        public init(name: String, role: Role, sha256: [UInt8]) {
            self.name = name
            self.role = role
            self.sha256 = sha256
        }
    }

    /// A client certificate, known by its common name.
    public struct Client: Sendable, Equatable {
        public var name: String
        public var role: Role

        public init(name: String, role: Role) {
            self.name = name
            self.role = role
        }
    }

    public var tokens: [Token]
    public var clients: [Client]

    public init(tokens: [Token] = [], clients: [Client] = []) {
        self.tokens = tokens
        self.clients = clients
    }

    /// Whether no credential is configured.
    public var isEmpty: Bool { tokens.isEmpty && clients.isEmpty }

    /// The key of the config file's table.
    static let fileKey = "auth"

    /// The `[auth]` table of a parsed config file (none: an empty list).
    ///
    /// - Throws: a message naming the file and the key (`auth.tokens[1].role`)
    ///   for an unknown key or role, a missing field, or a hash that is not
    ///   64 hex digits.
    init(table: TOMLTable?, path: String) throws(SettingsError) {
        self.init()
        guard let table else { return }
        for key in table.keys.sorted() where key != "tokens" && key != "clients" {
            throw SettingsError("\(path): unknown key 'auth.\(key)' (the keys are auth.tokens, auth.clients)")
        }
        for (index, entry) in try Self.entries(table, "tokens", path: path).enumerated() {
            let at = "auth.tokens[\(index)]"
            let fields = try Self.fields(entry, at: at, allowed: ["name", "role", "sha256"], path: path)
            let hex = fields["sha256"]!
            guard let hash = Self.hexBytes(hex), hash.count == 32 else {
                throw SettingsError(
                    "\(path): '\(at).sha256' must be the 64 hex digits of the token's SHA-256 "
                        + "(`kvorum certs create-token` prints it), got '\(hex)'")
            }
            tokens.append(Token(name: fields["name"]!, role: try Self.role(fields, at: at, path: path), sha256: hash))
        }
        for (index, entry) in try Self.entries(table, "clients", path: path).enumerated() {
            let at = "auth.clients[\(index)]"
            let fields = try Self.fields(entry, at: at, allowed: ["name", "role"], path: path)
            clients.append(Client(name: fields["name"]!, role: try Self.role(fields, at: at, path: path)))
        }
        if let duplicate = Self.firstDuplicate(tokens.map(\.name)) {
            throw SettingsError("\(path): two auth.tokens are named '\(duplicate)'")
        }
        if let duplicate = Self.firstDuplicate(clients.map(\.name)) {
            throw SettingsError("\(path): two auth.clients are named '\(duplicate)'")
        }
    }

    private static func entries(_ table: TOMLTable, _ key: String, path: String) throws(SettingsError) -> [TOMLTable] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else {
            throw SettingsError("\(path): 'auth.\(key)' must be an array of tables ([[auth.\(key)]])")
        }
        var tables: [TOMLTable] = []
        for element in array {
            guard let entry = element.table else {
                throw SettingsError("\(path): 'auth.\(key)' must be an array of tables ([[auth.\(key)]])")
            }
            tables.append(entry)
        }
        return tables
    }

    /// The string fields of one entry, each of `allowed` present.
    private static func fields(
        _ entry: TOMLTable, at: String, allowed: [String], path: String
    ) throws(SettingsError) -> [String: String] {
        var fields: [String: String] = [:]
        for key in entry.keys.sorted() {
            guard allowed.contains(key) else {
                throw SettingsError(
                    "\(path): unknown key '\(at).\(key)' (the keys are \(allowed.joined(separator: ", ")))")
            }
            guard let text = entry[key]!.string else {
                throw SettingsError("\(path): '\(at).\(key)' must be a string in quotes")
            }
            fields[key] = text
        }
        for key in allowed where fields[key]?.isEmpty != false {
            throw SettingsError("\(path): '\(at)' needs a non-empty '\(key)'")
        }
        return fields
    }

    private static func role(_ fields: [String: String], at: String, path: String) throws(SettingsError) -> Role {
        let text = fields["role"]!
        guard let role = Role(rawValue: text) else {
            let roles = Role.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError("\(path): '\(at).role' must be one of \(roles), got '\(text)'")
        }
        return role
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = PercentDecoding.hexValue(digits[index]),
                let low = PercentDecoding.hexValue(digits[index + 1])
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func firstDuplicate(_ names: [String]) -> String? {
        var seen: Set<String> = []
        return names.first { !seen.insert($0).inserted }
    }
}
