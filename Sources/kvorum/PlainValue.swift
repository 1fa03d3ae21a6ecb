/// How `kvorum get` prints a value in its plain output, one value a line:
/// as it is when that line can only be read one way, else as a quoted
/// JSON string literal.
///
/// A value is quoted when it is empty, holds a control character (a newline
/// would otherwise look like two siblings), begins or ends with whitespace,
/// or begins with `"` (so a bare value never looks like a quoted one).
enum PlainValue {
    /// The line for `value`.
    static func line(_ value: String) -> String {
        needsQuotes(value) ? quoted(value) : value
    }

    private static func needsQuotes(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, let last = value.unicodeScalars.last else { return true }
        return first == "\"" || first.properties.isWhitespace || last.properties.isWhitespace
            || value.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// `value` as a JSON string literal: `"`, `\` and control characters
    /// escaped, everything else as it is.
    private static func quoted(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.properties.generalCategory == .control:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}
