import KvorumTestKit
import Testing

@testable import KvorumCore

/// The seed corpus of the binary-codec fuzzers is what the encoders write
/// for the messages and sets `WireCodecTests` round-trip (regenerate with
/// `KVORUM_WRITE_FUZZ_SEEDS=1`, docs/fuzzing.md).
@Suite("fuzz seeds")
struct FuzzSeedTests {
    /// One frame per sample message, and two frames back to back.
    @Test func peerFrameSeedsAreCurrent() throws {
        func frame(_ body: PeerBody) -> [UInt8] {
            let payload = WireCodec.encode(PeerMessage(from: "node01", viewDigest: 7, body: body))
            return PeerFrame.header(payloadLength: payload.count) + payload
        }
        var seeds = WireCodecTests.bodies.enumerated().map { index, body in
            (name: "\(index)-\(body.kind)", bytes: frame(body))
        }
        seeds.append((name: "two-frames", bytes: frame(.ping) + frame(.pong(nil))))
        #expect(try FuzzSeedCorpus.mismatches(target: "peer-frames", seeds: seeds) == [])
    }

    /// Stored records: text and binary siblings, tombstones, an `xcart`
    /// version with tags and removals, and the empty set.
    @Test func storedSiblingSeedsAreCurrent() throws {
        let dot = Dot(actor: "node01.1", counter: 3)
        let cart = SiblingSet([
            Version(
                dot: dot, past: VersionVector(["node01.1": 2]), value: "[\"a\"]",
                tags: [ItemTag(item: "a", dot: dot)],
                removed: [RemovedTag(tag: ItemTag(item: "b", dot: Dot(actor: "node02.1", counter: 1)), remover: dot)])
        ])
        let sets: [(String, SiblingSet)] = [
            ("text", WireCodecTests.siblings), ("binary", WireCodecTests.binarySiblings), ("xcart", cart),
            ("empty", SiblingSet()),
            ("dotless-tombstone", SiblingSet([Version(dot: nil, past: VersionVector(), payload: .tombstone)])),
        ]
        let seeds = sets.map { (name: $0.0, bytes: WireCodec.encode($0.1)) }
        #expect(try FuzzSeedCorpus.mismatches(target: "stored-siblings", seeds: seeds) == [])
    }
}
