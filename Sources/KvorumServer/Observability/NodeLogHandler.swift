import Foundation
import KvorumCore
import Logging

/// How a node writes its log lines (`--log-format`).
public enum LogFormat: String, CaseIterable, Sendable {
    /// One line of text: time, level, message, then `key=value` fields.
    case text
    /// One JSON object per line: `time`, `level`, `message` and every
    /// metadata field (`node` among them) as its own key.
    case json
}

/// The node's log handler: each log event becomes one line, in the node's
/// format, handed whole to `write` (by default, one write to standard
/// error, so lines from different threads never interleave).
///
/// The logger's own metadata (the node's name, `node`) and the event's are
/// merged, the event's winning; fields come in key order, so a line is the
/// same whatever order its metadata was set in.
public struct NodeLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let format: LogFormat
    private let write: @Sendable (String) -> Void
    private let clock: @Sendable () -> Date

    public init(
        level: Logger.Level, format: LogFormat, clock: @escaping @Sendable () -> Date = { Date() },
        write: @escaping @Sendable (String) -> Void = NodeLogHandler.standardError
    ) {
        self.logLevel = level
        self.format = format
        self.clock = clock
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let given = event.metadata { fields.merge(given) { _, new in new } }
        write(line(level: event.level, message: event.message.description, fields: fields) + "\n")
    }

    /// One event as a line in this handler's format, without its newline.
    func line(level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        let time = Self.timestamp(clock())
        let keys = fields.keys.sorted()
        switch format {
        case .text:
            var line = "\(time) \(level.rawValue) \(message)"
            for key in keys { line += " \(key)=\(Self.textValue(fields[key]!))" }
            return line
        case .json:
            var object: [String: JSON] = [:]
            for key in keys { object[key] = Self.json(fields[key]!) }
            object["time"] = .string(time)
            object["level"] = .string(level.rawValue)
            object["message"] = .string(message)
            return JSON.object(object).rendered
        }
    }

    /// A metadata value in a text line: bare when it is one word, quoted
    /// (as a JSON string) when it holds spaces, quotes or `=`.
    private static func textValue(_ value: Logger.Metadata.Value) -> String {
        let text = "\(value)"
        let plain = !text.isEmpty && !text.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        return plain ? text : JSON.string(text).rendered
    }

    /// A metadata value in a JSON line: strings as strings, lists as
    /// arrays, dictionaries as objects.
    private static func json(_ value: Logger.Metadata.Value) -> JSON {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let items): .array(items.map(json))
        case .dictionary(let fields): .object(fields.mapValues(json))
        }
    }

    /// UTC, to the millisecond: `2026-11-30T21:05:49.123Z`.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(milliseconds % 1000)
        let fraction = String(repeating: "0", count: 3 - String(millis).count) + String(millis)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
            + "\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }

    /// Writes a whole line to standard error at once.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}
