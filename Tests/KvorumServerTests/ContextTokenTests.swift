import Foundation
import KvorumCore
import Testing

@testable import KvorumContextToken

/// The HTTP API's context tokens: what goes in comes out, and a damaged
/// token never decodes.
struct ContextTokenTests {
    static let samples = [
        "node1.2:1|", "node2.3:2|node2.3:1", "node1.2:3,node2.1:5#7|node1.2:2", "nödé.1:1|", "a.1:1",
    ]

    /// Every metadata string comes back from its token; nothing is the
    /// empty token.
    @Test(arguments: samples)
    func roundTrip(metadata: String) throws {
        let token = ContextToken.encode(metadata)
        #expect(ContextToken.decode(token) == metadata)
        #expect(token.utf8.allSatisfy { Base64URLTests.alphabet.contains($0) })
        #expect(ContextToken.encode("") == "")
        #expect(ContextToken.decode("") == "")
    }

    /// The format is fixed: clients keep tokens across upgrades. These were
    /// computed outside Swift (Python's base64 and FNV-1a by hand).
    @Test func knownTokens() {
        #expect(ContextToken.encode("node1.2:1|") == "AW5vZGUxLjI6MXzg707QRkmoOg")
        #expect(ContextToken.encode("node2.3:2|node2.3:1") == "AW5vZGUyLjM6Mnxub2RlMi4zOjEGu9fhzl0wzQ")
        #expect(ContextToken.decode("AW5vZGUxLjI6MXzg707QRkmoOg") == "node1.2:1|")
    }

    /// A token whose checksum matches but whose metadata is not UTF-8 (one
    /// no node hands out) is damaged; ASCII and other UTF-8 decode.
    @Test func metadataMustBeUTF8() {
        func token(_ metadata: [UInt8]) -> String {
            let signed = [1] + metadata
            let checksum = ContextToken.fnv1a(signed)
            return Base64URL.encode(signed + (0..<8).map { UInt8(truncatingIfNeeded: checksum >> (56 - 8 * $0)) })
        }
        #expect(ContextToken.decode(token(Array("n1.1:1|".utf8))) == "n1.1:1|")
        #expect(ContextToken.decode(token(Array("nödé.1:1|".utf8))) == "nödé.1:1|")
        #expect(ContextToken.decode(token([0x6E, 0xFF, 0x3A, 0x31])) == nil)
        #expect(ContextToken.decode(token([0x6E, 0xC3])) == nil)
    }

    /// Changing any one character of a token to any other printable ASCII
    /// character, dropping one or adding one makes it fail to decode.
    @Test(arguments: samples)
    func everySingleCorruptionIsRejected(metadata: String) {
        let token = Array(ContextToken.encode(metadata).utf8)
        var accepted: [String] = []
        for index in token.indices {
            for replacement in UInt8(0x20)...UInt8(0x7E) where replacement != token[index] {
                var damaged = token
                damaged[index] = replacement
                let text = String(decoding: damaged, as: UTF8.self)
                if ContextToken.decode(text) != nil { accepted.append(text) }
            }
            var shortened = token
            shortened.remove(at: index)
            let text = String(decoding: shortened, as: UTF8.self)
            if ContextToken.decode(text) != nil { accepted.append(text) }
        }
        for index in 0...token.count {
            var longer = token
            longer.insert(UInt8(ascii: "A"), at: index)
            let text = String(decoding: longer, as: UTF8.self)
            if ContextToken.decode(text) != nil { accepted.append(text) }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.prefix(5))")
    }

    /// What a user might type instead of a token is refused: the seed's
    /// metadata text, an invented context, a token of another format.
    @Test(arguments: ["node1.2:999", "node1.2:1|", "x", "AQ", "AA", "Zm9vYmFy", "=", "a b"])
    func inventedContextsAreRejected(text: String) {
        #expect(ContextToken.decode(text) == nil)
    }

    /// The checksum is FNV-1a 64: its published values for "", "a" and "foobar".
    @Test func checksumIsFNV1a64() {
        #expect(ContextToken.fnv1a(Array("".utf8)) == 0xCBF2_9CE4_8422_2325)
        #expect(ContextToken.fnv1a(Array("a".utf8)) == 0xAF63_DC4C_8601_EC8C)
        #expect(ContextToken.fnv1a(Array("foobar".utf8)) == 0x8594_4171_F739_67E8)
    }
}

/// The strict base64url codec under the tokens.
struct Base64URLTests {
    static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648's test vectors (section 10), without padding, and the two
    /// characters where base64url differs from base64.
    @Test func vectors() {
        let vectors = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
    }

    /// The standard alphabet with padding (RFC 4648 §4, the vectors of
    /// section 10), as JSON answers carry values, spells what Foundation's
    /// encoder spells for every length up to 300 of random bytes.
    @Test func standardAlphabetWithPadding() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors { #expect(Base64.encode(Array(plain.utf8), .standard) == encoded) }
        #expect(Base64.encode([0xFB, 0xFF], .standard) == "+/8=")
        var random = SplitMix64(seed: 64)
        for count in 0...300 {
            let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            #expect(Base64.encode(bytes, .standard) == Data(bytes).base64EncodedString(), "\(count) bytes")
        }
    }

    /// Every byte value: an alphabet character decodes to its position in
    /// the alphabet, any other byte is refused.
    @Test func everyByteValue() {
        let ordered = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for byte in UInt8.min...UInt8.max {
            let decoded = Base64URL.decode(String(decoding: [byte, 65, 65, 65], as: UTF8.self))
            if let position = ordered.firstIndex(of: byte) {
                #expect(decoded == [UInt8(position) << 2, 0, 0], "\(byte)")
            } else {
                #expect(decoded == nil, "\(byte)")
            }
        }
        let all = Array(UInt8.min...UInt8.max)
        for count in 0...all.count {
            #expect(Base64URL.decode(Base64URL.encode(Array(all.prefix(count)))) == Array(all.prefix(count)))
        }
    }

    /// Text `encode` never writes is refused: padding, base64's `+` and
    /// `/`, a lone trailing character, leftover bits that are not zero.
    @Test func strictness() {
        for text in ["Zg==", "+/8", "Zm9vY", "Zh", "Zm9"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
    }
}
