import Testing

@testable import KvorumCore

/// The frame-splitting rule the server's channel decoder and the fuzzers
/// share: a 4-byte big-endian length, then the payload.
@Suite("PeerFrame")
struct PeerFrameTests {
    /// A frame is split off only once all of it is there, and bytes behind
    /// it do not matter.
    @Test func wholeFramesOnly() throws {
        let frame = PeerFrame.header(payloadLength: 3) + [7, 8, 9]
        #expect(frame == [0, 0, 0, 3, 7, 8, 9])
        for cut in 0..<frame.count {
            #expect(try PeerFrame.payloadLength(atStartOf: frame.prefix(cut), maximumFrameSize: 8) == nil)
        }
        #expect(try PeerFrame.payloadLength(atStartOf: frame, maximumFrameSize: 8) == 3)
        #expect(try PeerFrame.payloadLength(atStartOf: frame + [1, 2], maximumFrameSize: 8) == 3)
        #expect(try PeerFrame.payloadLength(atStartOf: PeerFrame.header(payloadLength: 0), maximumFrameSize: 8) == 0)
    }

    /// A header over the limit is refused before its payload arrives; the
    /// limit itself is allowed.
    @Test func oversizedHeaderIsRefusedAtOnce() throws {
        #expect(try PeerFrame.payloadLength(atStartOf: [0, 0, 0, 8], maximumFrameSize: 8) == nil)
        #expect(throws: PeerFrame.TooLarge(size: 9, limit: 8)) {
            try PeerFrame.payloadLength(atStartOf: [0, 0, 0, 9], maximumFrameSize: 8)
        }
        #expect(throws: PeerFrame.TooLarge(size: Int(UInt32.max), limit: 8)) {
            try PeerFrame.payloadLength(atStartOf: [0xFF, 0xFF, 0xFF, 0xFF], maximumFrameSize: 8)
        }
    }
}
