/// A value a client stored: any bytes, with the content type the client gave
/// them (nil when it gave none: the seed protocol's text values, or an HTTP
/// PUT without a `Content-Type`).
///
/// Compared by bytes: two values are equal only when their bytes and content
/// types are, never because two spellings are Unicode-equivalent.
public struct Value: Hashable, Sendable, Codable {
    public var bytes: [UInt8]
    public var contentType: String?

    public init(bytes: [UInt8], contentType: String? = nil) {
        self.bytes = bytes
        self.contentType = contentType
    }

    /// A text value, stored as its UTF-8 bytes, without a content type.
    public init(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// The value as text: its bytes read as UTF-8, each invalid sequence
    /// replaced by U+FFFD. Exact for every value written as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The value as text when its bytes are valid UTF-8, nil otherwise.
    public var exactText: String? { String(validating: bytes, as: UTF8.self) }

    /// JSON fields: `text` for a value whose bytes are UTF-8, `bytes` (an
    /// array of numbers) for any other, and `contentType` when there is one.
    private enum CodingKeys: String, CodingKey {
        case text, bytes, contentType
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            bytes: try container.decodeIfPresent([UInt8].self, forKey: .bytes)
                ?? Array(try container.decode(String.self, forKey: .text).utf8),
            contentType: try container.decodeIfPresent(String.self, forKey: .contentType))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let text = exactText {
            try container.encode(text, forKey: .text)
        } else {
            try container.encode(bytes, forKey: .bytes)
        }
        try container.encodeIfPresent(contentType, forKey: .contentType)
    }

    /// A total order on values (bytes, then content type), so that two copies
    /// of one version that disagree resolve the same way on every replica.
    static func precedes(_ a: Value, _ b: Value) -> Bool {
        if a.bytes != b.bytes { return a.bytes.lexicographicallyPrecedes(b.bytes) }
        return byteOrder(a.contentType ?? "", b.contentType ?? "")
    }
}

/// What one version holds: a client's value, or the mark a delete leaves
/// (a tombstone), which supersedes what the delete's context covered and
/// is itself a version like any other until it is reaped (docs/architecture.md).
public enum Payload: Hashable, Sendable, Codable {
    case value(Value)
    case tombstone

    /// The value, or nil for a tombstone.
    public var value: Value? {
        guard case .value(let value) = self else { return nil }
        return value
    }

    public var isTombstone: Bool { self == .tombstone }

    /// The same total order as `Value.precedes`, tombstones first.
    static func precedes(_ a: Payload, _ b: Payload) -> Bool {
        switch (a, b) {
        case (.tombstone, .tombstone), (.value, .tombstone): false
        case (.tombstone, .value): true
        case (.value(let x), .value(let y)): Value.precedes(x, y)
        }
    }
}

extension Value: ExpressibleByStringLiteral {
    /// A text literal is a text value: `Value(text:)`.
    public init(stringLiteral text: String) {
        self.init(text: text)
    }
}
