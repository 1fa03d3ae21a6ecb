import Foundation
import Testing

@testable import KvorumCore

/// `Key`: a byte string. Equal, hashed and ordered by its UTF-8 bytes, and
/// carried by the wire, JSON and the ring exactly as its text was.
@Suite("Key")
struct KeyTests {
    static let nfc: Key = "caf\u{E9}"
    static let nfd: Key = "cafe\u{301}"

    /// Canonically equivalent spellings are equal `String`s but two keys.
    @Test func equalityAndHashingAreByBytes() {
        #expect(Self.nfc.text == Self.nfd.text)
        #expect(Self.nfc != Self.nfd)
        #expect(Set([Self.nfc, Self.nfd, Key("caf\u{E9}")]).count == 2)
        #expect([Self.nfc: 1, Self.nfd: 2][Key("cafe\u{301}")] == 2)
        #expect(Key("") == "")
        #expect(Key("ab") != "abc")
        // Lengths around the eight-byte words the comparison reads.
        for length in [1, 7, 8, 9, 16, 17, 40] {
            let same = String(repeating: "k", count: length)
            #expect(Key(same) == Key(String(repeating: "k", count: length)))
            for position in [0, length / 2, length - 1] {
                var bytes = Array(same.utf8)
                bytes[position] = UInt8(ascii: "j")
                #expect(Key(same) != Key(String(decoding: bytes, as: UTF8.self)), "length \(length), byte \(position)")
            }
        }
    }

    /// Keys sort as `byteOrder` sorts their text (not as `String`'s `<`).
    @Test func orderIsByteOrder() {
        let texts = ["", "Z", "a", "a\u{0}", "caf\u{E9}", "cafe\u{301}", "\u{FF5A}", "\u{1F600}", "\u{7F}", "\u{80}"]
        #expect(texts.map { Key($0) }.sorted().map(\.text) == texts.sorted(by: byteOrder))
        #expect(Self.nfd < Self.nfc)
        #expect(!(Self.nfc < Self.nfd))
    }

    /// A key reads back from every format with the bytes it was written with.
    @Test func formatsCarryTheBytes() throws {
        let message = PeerMessage(from: "n1", viewDigest: 0, body: .read(op: 9, key: Self.nfd))
        let wire = WireCodec.encode(message)
        // A key travels as a string does: a varint byte count, then its UTF-8 bytes.
        #expect(Array(wire.suffix(Self.nfd.utf8.count + 1)) == [UInt8(Self.nfd.utf8.count)] + Array(Self.nfd.utf8))
        guard case .read(_, let key) = try WireCodec.decode(wire).body else {
            Issue.record("not a read")
            return
        }
        #expect(Array(key.utf8) == Array(Self.nfd.utf8))

        let json = try JSONEncoder().encode([Self.nfc, Self.nfd])
        #expect(json == (try JSONEncoder().encode([Self.nfc.text, Self.nfd.text])))
        #expect(try JSONDecoder().decode([Key].self, from: json) == [Self.nfc, Self.nfd])

        #expect("\(Self.nfd)" == Self.nfd.text)
        let i = 7
        let interpolated: Key = "key-\(i)"
        #expect(interpolated == "key-7")
    }

    /// The ring places a key by its bytes, as it placed the same text before.
    @Test func placementHashesTheBytes() {
        #expect(StableHash.hash(Self.nfc) == StableHash.hash("caf\u{E9}"))
        #expect(StableHash.hash(Self.nfd) == StableHash.hash("cafe\u{301}"))
        #expect(StableHash.hash(Self.nfc) != StableHash.hash(Self.nfd))
    }

    /// The merge policy reads the key's text.
    @Test func mergePolicyReadsTheText() {
        #expect(MergePolicy.forKey("cart-1") == .cart)
        #expect(MergePolicy.forKey("xcart-1") == .xcart)
        #expect(MergePolicy.forKey("car") == .keepAll)
        #expect(MergePolicy.forKey(Self.nfd) == .keepAll)
    }
}
