import TOMLKit

extension SettingsLayer {
    /// The settings a config file gives: TOML with one top-level key per
    /// setting (`NodeSetting.fileKey`), text in quotes, numbers bare.
    /// A key that is no setting, a value of the wrong type or text that is
    /// not TOML is an error naming the file and the key, never skipped.
    /// The `[auth]` tables are read by `AccessList(configFile:path:)`.
    ///
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - path: the file's name, for messages.
    public init(configFile text: String, path: String) throws(SettingsError) {
        self.init()
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw SettingsError("\(path): not valid TOML: \(error)")
        }
        let known = NodeSetting.allCases.map(\.fileKey).joined(separator: ", ")
        for key in table.keys.sorted() where key != AccessList.fileKey {
            let value = table[key]!.tomlValue
            guard let setting = NodeSetting(rawValue: key) else {
                throw SettingsError("\(path): unknown key '\(key)' (the keys are \(known), and the [auth] tables)")
            }
            let text: String
            switch (setting.kind, value.type) {
            case (.text, .string): text = value.string!
            case (.integer, .int), (.seconds, .int): text = String(value.int!)
            case (.seconds, .double): text = String(value.double!)
            case (.boolean, .bool): text = String(value.bool!)
            case (.text, _):
                throw SettingsError("\(path): '\(key)' must be a string in quotes, got \(Self.name(of: value.type))")
            case (.integer, _):
                throw SettingsError("\(path): '\(key)' must be an integer, got \(Self.name(of: value.type))")
            case (.seconds, _):
                throw SettingsError("\(path): '\(key)' must be a number, got \(Self.name(of: value.type))")
            case (.boolean, _):
                throw SettingsError("\(path): '\(key)' must be true or false, got \(Self.name(of: value.type))")
            }
            do {
                try set(setting, text: text)
            } catch {
                throw SettingsError("\(path): '\(key)' \(error.description)")
            }
        }
    }

    /// "an integer", "a string", …
    private static func name(of type: TOMLType) -> String {
        let word = type.description
        return (word.first.map { "aeiou".contains($0) } == true ? "an " : "a ") + word
    }
}

extension AccessList {
    /// The credentials a config file lists in its `[auth]` tables (none: an
    /// empty list).
    public init(configFile text: String, path: String) throws(SettingsError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw SettingsError("\(path): not valid TOML: \(error)")
        }
        guard let value = table[Self.fileKey] else {
            self.init()
            return
        }
        guard let auth = value.table else {
            throw SettingsError("\(path): 'auth' must be a table ([[auth.tokens]], [[auth.clients]])")
        }
        try self.init(table: auth, path: path)
    }
}
