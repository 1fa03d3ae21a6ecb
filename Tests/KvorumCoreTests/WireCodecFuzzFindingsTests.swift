import Testing

@testable import KvorumCore

/// Inputs the fuzzers (Fuzz/, docs/fuzzing.md) found against the binary
/// codec, each kept as the bytes that exposed it.
@Suite("WireCodec fuzz findings")
struct WireCodecFuzzFindingsTests {
    /// fuzz-stored-siblings: a dotless tombstone with an empty past encodes
    /// in 3 bytes, but the decoder assumed every version takes at least 4,
    /// so it refused a record the encoder wrote (a store could not read back
    /// such a key). The input is a tombstone whose past names one actor at
    /// counter 0, which the vector drops.
    @Test func dotlessTombstoneWithEmptyPastDecodes() throws {
        let found: [UInt8] = [0x01, 0x01, 0x08, 0x01, 0x01, 0x01, 0x00, 0x00]
        let expected = SiblingSet([Version(dot: nil, past: VersionVector(), payload: .tombstone)])
        #expect(try WireCodec.decodeSiblings(found) == expected)
        #expect(WireCodec.encode(expected) == [0x01, 0x01, 0x08, 0x00, 0x00])
        #expect(try WireCodec.decodeSiblings(WireCodec.encode(expected)) == expected)
    }
}
