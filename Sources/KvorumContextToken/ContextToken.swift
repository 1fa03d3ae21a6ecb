/// The causal context as the HTTP API hands it out: an opaque token with a
/// checksum, so a mistyped, truncated or invented context is refused instead
/// of silently superseding siblings it was never read with.
///
/// A token is the base64url text (RFC 4648 §5, no padding) of
///
///     version (1 byte, 1) · metadata (UTF-8) · FNV-1a 64 of the first two (8 bytes, big-endian)
///
/// where `metadata` is the version metadata string of the seed protocol
/// (`node1.2:3|node1.2:1`, docs/protocol.md) that the store works with. The empty
/// metadata (nothing read) is the empty token. A token decodes only if it is
/// the canonical base64url text of such bytes and the checksum matches, so
/// any single changed character of a token is caught.
public enum ContextToken {
    /// What the HTTP API answers (with `400`) for a token that does not decode.
    public static let damagedMessage = "context token is damaged; read the key again"

    /// The only format so far.
    private static let version: UInt8 = 1
    private static let checksumSize = 8

    /// The token of a metadata string; `""` for `""`.
    public static func encode(_ metadata: String) -> String {
        guard !metadata.isEmpty else { return "" }
        var metadata = metadata
        // Written in place: every write's answer carries a token.
        let bytes = metadata.withUTF8 { utf8 in
            let signed = 1 + utf8.count
            return [UInt8](unsafeUninitializedCapacity: signed + checksumSize) { out, count in
                out[0] = version
                for index in utf8.indices { out[1 + index] = utf8[index] }
                let checksum = fnv1a(out[..<signed])
                for index in 0..<checksumSize {
                    out[signed + index] = UInt8(truncatingIfNeeded: checksum >> (56 - 8 * index))
                }
                count = signed + checksumSize
            }
        }
        return Base64URL.encode(bytes)
    }

    /// The metadata string of a token; `""` for `""`; nil when the token is
    /// damaged: not canonical base64url, too short, an unknown version, a
    /// checksum that does not match, or metadata that is not UTF-8.
    public static func decode(_ token: String) -> String? {
        guard !token.isEmpty else { return "" }
        guard let bytes = Base64URL.decode(token), bytes.count > 1 + checksumSize, bytes[0] == version else {
            return nil
        }
        let body = bytes.dropLast(checksumSize)
        let stored = bytes.suffix(checksumSize).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard fnv1a(body) == stored else { return nil }
        let metadata = body.dropFirst()
        // Metadata is nearly always ASCII, valid UTF-8 as it is; the
        // general check is the standard library's generic one.
        if metadata.allSatisfy({ $0 < 0x80 }) { return String(decoding: metadata, as: UTF8.self) }
        return String(validating: metadata, as: UTF8.self)
    }

    /// FNV-1a, 64 bits: every single changed byte changes the result.
    static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}

/// Base64 (RFC 4648) of bytes, written as bytes: Foundation's encoder
/// goes through `Data` and cost a JSON read more than the rest of its body.
public enum Base64 {
    public enum Alphabet {
        /// The standard alphabet with `=` padding (§4), as JSON answers carry values.
        case standard
        /// The URL- and filename-safe alphabet without padding (§5), as context tokens are.
        case url

        /// The 64 symbols, by value.
        fileprivate var symbols: [UInt8] {
            switch self {
            case .standard: Base64.standardSymbols
            case .url: Base64.urlSymbols
            }
        }
    }

    private static let standardSymbols = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSymbols = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8], _ alphabet: Alphabet) -> String {
        let padded = alphabet == .standard
        let whole = bytes.count / 3 * 3
        let tail = bytes.count - whole
        let length = whole / 3 * 4 + (tail == 0 ? 0 : padded ? 4 : tail + 1)
        // Written in place, a group of three bytes at a time: the text is
        // ASCII, so no copy or check after.
        return alphabet.symbols.withUnsafeBufferPointer { symbols in
            bytes.withUnsafeBufferPointer { input in
                String(unsafeUninitializedCapacity: length) { text in
                    var index = 0
                    var written = 0
                    func put(_ word: UInt32, _ count: Int) {
                        for position in 0..<count {
                            text[written] = symbols[Int(word >> (18 - 6 * UInt32(position)) & 0x3F)]
                            written += 1
                        }
                    }
                    while index < whole {
                        put(UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2]), 4)
                        index += 3
                    }
                    if tail > 0 {
                        let second = tail == 2 ? UInt32(input[index + 1]) << 8 : 0
                        put(UInt32(input[index]) << 16 | second, tail + 1)
                        if padded {
                            for _ in tail..<3 {
                                text[written] = UInt8(ascii: "=")
                                written += 1
                            }
                        }
                    }
                    return written
                }
            }
        }
    }
}

/// base64url without padding (RFC 4648 §5), strict: decoding refuses any
/// text that is not exactly what `encode` writes.
enum Base64URL {
    /// The 6-bit value of an alphabet byte; nil for any other byte. Ranges
    /// rather than a dictionary: every write through the HTTP API decodes a
    /// token, and hashing each character cost more than the rest of it.
    private static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }

    static func encode(_ bytes: [UInt8]) -> String { Base64.encode(bytes, .url) }

    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        // On the UTF-8 buffer: iterating `String.UTF8View` checks each step.
        return text.withUTF8 { symbols in
            var failed = false
            let bytes = [UInt8](unsafeUninitializedCapacity: symbols.count * 3 / 4) { out, written in
                var bits: UInt32 = 0
                var count = 0
                for symbol in symbols {
                    guard let value = value(of: symbol) else {
                        failed = true
                        return
                    }
                    bits = bits << 6 | UInt32(value)
                    count += 6
                    if count >= 8 {
                        count -= 8
                        out[written] = UInt8(truncatingIfNeeded: bits >> count)
                        written += 1
                    }
                }
                // A lone 6-bit tail, or leftover bits that are not zero, is
                // text `encode` never writes.
                failed = count >= 6 || bits & ((1 << count) - 1) != 0
            }
            return failed ? nil : bytes
        }
    }
}
