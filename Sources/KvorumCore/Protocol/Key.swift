/// A key of the store: a byte string, written as UTF-8 text.
///
/// Two keys are the same key only when their UTF-8 bytes are equal. Swift's
/// `String` equality and hashing follow Unicode canonical equivalence, so the
/// precomposed "caf\u{E9}" and the decomposed "cafe\u{301}" are one `String`
/// key in a dictionary, while the disk store, the wire and the ring (which
/// hashes the bytes) see two. A `Key` makes every part of the node agree with
/// the disk: maps keyed by `Key` (records, hints, the hash tree, the record
/// cache) keep the two apart, and keys order by their bytes (`byteOrder`).
///
/// The text is kept as it came, so converting at the edges (JSON, HTTP, the
/// command line, SQLite) costs nothing and never changes a byte.
public struct Key: Sendable {
    /// The key as text, byte for byte as it came.
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    /// The key's UTF-8 bytes: what it is compared, hashed and placed by.
    public var utf8: String.UTF8View { text.utf8 }
}

extension Key: Hashable {
    /// Keys are compared on every lookup of every request, so equal lengths
    /// are compared eight bytes at a time (faster than `String`'s own `==`).
    public static func == (a: Key, b: Key) -> Bool {
        let (x, y) = (a.text.utf8, b.text.utf8)
        guard x.count == y.count else { return false }
        let contiguous = x.withContiguousStorageIfAvailable { xs in
            y.withContiguousStorageIfAvailable { ys in
                sameBytes(UnsafeRawBufferPointer(xs), UnsafeRawBufferPointer(ys))
            }
        }
        return (contiguous ?? nil) ?? x.elementsEqual(y)
    }

    /// Whether two buffers of the same length hold the same bytes.
    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset + 8 <= a.count {
            guard
                a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    == b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            else { return false }
            offset += 8
        }
        while offset < a.count {
            guard a[offset] == b[offset] else { return false }
            offset += 1
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Native strings are always contiguous; a copy serves the others.
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if hashed == nil {
            Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}

extension Key: Comparable {
    /// Byte-wise order, as `byteOrder` orders strings.
    public static func < (a: Key, b: Key) -> Bool {
        a.text.utf8.lexicographicallyPrecedes(b.text.utf8)
    }
}

extension Key: Codable {
    /// A key encodes as its text: every format that carried a key as a
    /// string (traces, JSON) carries the same string.
    public init(from decoder: any Decoder) throws {
        text = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension Key: ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    public init(stringLiteral text: String) {
        self.text = text
    }

    public init(stringInterpolation: DefaultStringInterpolation) {
        text = String(stringInterpolation: stringInterpolation)
    }
}

extension Key: CustomStringConvertible {
    public var description: String { text }
}
