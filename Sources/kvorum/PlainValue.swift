import KvorumCore

/// How `kvorum get` prints a value in its plain output, one value a line:
/// as it is when that line can only be read one way, else as a quoted
/// JSON string literal (the store's JSON rendering: `"`, `\\` and the C0
/// control characters escaped).
///
/// A value is quoted when it is empty, holds a control character (a newline
/// would otherwise look like two siblings), begins or ends with whitespace,
/// or begins with `"` (so a bare value never looks like a quoted one).
enum PlainValue {
    /// The line for `value`.
    static func line(_ value: String) -> String {
        needsQuotes(value) ? JSON.string(value).rendered : value
    }

    private static func needsQuotes(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, let last = value.unicodeScalars.last else { return true }
        return first == "\"" || first.properties.isWhitespace || last.properties.isWhitespace
            || value.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
