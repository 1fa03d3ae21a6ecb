import KvorumTestKit
import Testing

@testable import KvorumCore

/// The binary peer codec: every message survives a round trip, and no input
/// (truncated, corrupted or random) crashes the decoder.
@Suite("WireCodec")
struct WireCodecTests {
    static let siblings = SiblingSet([
        Version(
            dot: Dot(actor: "node02.3", counter: 300),
            past: VersionVector(["node01.1": 2, "ключ": 1], dots: [Dot(actor: "node03.1", counter: 5)]),
            value: "v\u{0}\n🙂"),
        Version(dot: Dot(actor: "node04.1", counter: 1), past: VersionVector(), value: ""),
    ])
    /// A tombstone next to a value of every byte with a content type.
    static let binarySiblings = SiblingSet([
        Version(dot: Dot(actor: "node05.1", counter: 2), past: VersionVector(["node04.1": 1]), payload: .tombstone),
        Version(
            dot: Dot(actor: "node06.1", counter: 1), past: VersionVector(),
            payload: .value(Value(bytes: Array(0...255), contentType: "application/x-test"))),
    ])
    static let member = MemberEntry(
        name: "node01", address: "127.0.0.1:9701", status: .left, version: 1 << 40, identity: 0xFEED_FACE_0000_0001)

    static let bodies: [PeerBody] = [
        .forwardPut(op: 1, key: "k", payload: .value(Value(text: "x")), context: nil, quorum: 2),
        .forwardPut(
            op: 2, key: "b", payload: .value(Value(bytes: [0, 255, 10], contentType: "image/png")), context: nil,
            quorum: 1),
        .forwardPut(op: 3, key: "d", payload: .tombstone, context: VersionVector(["a": 1]), quorum: 2),
        .forwardPut(
            op: UInt64.max, key: "", payload: .value(Value(text: "y")), context: VersionVector(["a": 3]), quorum: 3),
        .forwardOffer(op: 12),
        .forwardReady(op: UInt64.max),
        .viewCheck,
        .forwardResult(op: 5, outcome: .written(metadata: "node01.2:1|", siblings: 3)),
        .forwardResult(op: 5, outcome: .failed(reason: "write quorum not reached", failure: .unavailable)),
        .forwardResult(op: 6, outcome: .failed(reason: "too many siblings", failure: .conflict)),
        .write(op: 7, key: "cart-1", siblings: siblings, hintFor: "node05"),
        .write(op: 0, key: "k", siblings: SiblingSet(), hintFor: nil),
        .repair(key: "k", siblings: siblings),
        .repair(key: "bin", siblings: binarySiblings),
        .writeAck(op: 8),
        .read(op: 9, key: "k"),
        .readReply(op: 9, siblings: siblings),
        .handoff(
            batch: 10,
            records: [KeyedSiblings(key: "a", siblings: siblings), KeyedSiblings(key: "b", siblings: SiblingSet())]),
        .handoffAck(batch: 10),
        .reapCheck(round: 11, keys: ["a", "k"]),
        .reapStatus(round: 11, held: [KeyDigest(key: "a", digest: 0xDEAD_BEEF)]),
        .reapStatus(round: 12, held: []),
        .reap([KeyDigest(key: "k", digest: UInt64.max)]),
        .ping,
        .pong(nil),
        .join(member),
        .joinRefused(reason: "the name 'node02' belongs to another node"),
        .view([member, MemberEntry(name: "node02", address: "h:2", status: .up, version: 3)]),
        .listKeys(
            op: 11, round: 2, partitions: [0, 7, 4095],
            query: KeyQuery(prefix: "cart-", after: "cart-\u{E9}", limit: 10_000)),
        .listKeys(op: 12, round: 1, partitions: [], query: KeyQuery()),
        .listKeysReply(op: 11, round: 2, keys: ["cart-z", "cart-\u{E9}", ""], full: true),
        .listKeysReply(op: 12, round: 1, keys: [], full: false),
        .pong(
            PeerReport(
                httpAddress: "127.0.0.1:8001", records: 120, phase: .leaving,
                hints: [.init(target: "node02", count: 3), .init(target: "n\u{E9}", count: 0)])),
        .pong(PeerReport(httpAddress: nil, records: 0, phase: .joining, hints: [])),
    ]

    /// Each kind of message encodes and decodes to an equal message.
    @Test(arguments: bodies.indices)
    func roundTrip(index: Int) throws {
        let message = PeerMessage(from: "node01", viewDigest: 0xDEAD_BEEF_0123_4567, body: Self.bodies[index])
        let bytes = WireCodec.encode(message)
        #expect(bytes.first == WireCodec.version)
        #expect(try WireCodec.decode(bytes) == message)
    }

    /// A pong from a node that predates reports (the tag and nothing after
    /// it) reads as a pong without a report.
    @Test func aPongWithoutItsFlagIsAnOlderNodes() throws {
        var bytes = WireCodec.encode(PeerMessage(from: "node01", viewDigest: 1, body: .pong(nil)))
        #expect(bytes.removeLast() == 0)
        #expect(try WireCodec.decode(bytes).body == .pong(nil))
    }

    /// Every tag is written by exactly the message it names, and the tag is
    /// the byte after the sender and its digest.
    @Test func everyTagHasItsMessage() throws {
        var seen: Set<PeerMessageTag> = []
        for body in Self.bodies + [
            .aeTree(level: 1, entries: []), .aeKeys(partitions: [], digests: []),
            .aeFetch(keys: []), .aeRecords([]),
        ] {
            let bytes = WireCodec.encode(PeerMessage(from: "n", viewDigest: 0, body: body))
            #expect(bytes[1 + 1 + 1 + 8] == body.tag.rawValue)
            seen.insert(body.tag)
        }
        #expect(seen == Set(PeerMessageTag.allCases))
    }

    /// A server sends a message before the turn's commit only if it vouches
    /// for nothing stored: every acknowledgement, answer and membership
    /// change waits; requests (and read repair, which sends what replicas
    /// already hold) do not.
    @Test func onlyRequestsLeaveBeforeTheCommit() {
        var early: Set<PeerMessageTag> = []
        for body in Self.bodies + [
            .aeTree(level: 1, entries: []), .aeKeys(partitions: [], digests: []),
            .aeFetch(keys: []), .aeRecords([]),
        ] where body.mayLeaveBeforeCommit {
            early.insert(body.tag)
        }
        #expect(
            early == [
                .forwardOffer, .forwardPut, .write, .repair, .read, .handoff, .ping, .viewCheck, .aeTree, .aeKeys,
                .aeFetch, .reapCheck, .listKeys,
            ])
    }

    /// Every strict prefix of a valid encoding is refused, and so are trailing bytes.
    @Test func truncatedAndPaddedInputIsRefused() {
        let bytes = WireCodec.encode(PeerMessage(from: "n", viewDigest: 1, body: Self.bodies[5]))
        for length in 0..<bytes.count {
            #expect(throws: WireCodec.DecodeError.self) { try WireCodec.decode(bytes.prefix(length)) }
        }
        #expect(throws: WireCodec.DecodeError.self) { try WireCodec.decode(bytes + [0]) }
    }

    /// An unknown version byte is refused with a reason naming it.
    @Test func otherVersionsAreRefused() {
        var bytes = WireCodec.encode(PeerMessage(from: "n", viewDigest: 1, body: .ping))
        bytes[0] = 9
        #expect(throws: WireCodec.DecodeError.self) { try WireCodec.decode(bytes) }
    }

    /// Random bytes and single-byte corruptions of valid messages either decode
    /// or throw; none crashes or allocates without bound.
    @Test func garbageNeverCrashes() {
        var random = SplitMix64(seed: 42)
        let valid = Self.bodies.map { WireCodec.encode(PeerMessage(from: "node01", viewDigest: 7, body: $0)) }
        for _ in 0..<5_000 {
            var bytes = valid[Int(random.next() % UInt64(valid.count))]
            let position = Int(random.next() % UInt64(bytes.count))
            bytes[position] = UInt8(truncatingIfNeeded: random.next())
            _ = try? WireCodec.decode(bytes)
            let noise = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? WireCodec.decode([WireCodec.version] + noise)
        }
        #expect(throws: WireCodec.DecodeError.self) {
            try WireCodec.decode([WireCodec.version, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        }
    }

    /// The binary form stays compact: a write of two versions fits in under 150 bytes.
    /// Fixed-width numbers (digests, hashes) go most significant byte
    /// first, as every node since the first has sent them.
    @Test func fixed64IsBigEndian() throws {
        var writer = WireCodec.Writer()
        writer.fixed64(0x0102_0304_0506_0708)
        #expect(writer.bytes == [1, 2, 3, 4, 5, 6, 7, 8])
        var reader = WireCodec.Reader(writer.bytes)
        #expect(try reader.fixed64() == 0x0102_0304_0506_0708)
    }

    @Test func isCompact() throws {
        let message = PeerMessage(
            from: "node01", viewDigest: 7, body: .write(op: 3, key: "key", siblings: Self.siblings, hintFor: nil))
        #expect(WireCodec.encode(message).count < 150)
    }

    /// The reader's UTF-8 check accepts exactly what `String(validating:)`
    /// accepts: random byte strings (shorter and longer than the eight
    /// bytes its ASCII check takes at once), half of them built from pieces
    /// of valid and broken multi-byte sequences.
    @Test func stringsAreValidatedAsTheStandardLibraryDoes() {
        let pieces: [[UInt8]] = [
            [0x61], [0x00], [0x7F], [0xC3, 0xA9], [0xC3], [0xA9], [0xE2, 0x82, 0xAC], [0xE2, 0x82], [0xED, 0xA0, 0x80],
            [0xF0, 0x9F, 0x99, 0x82], [0xF0, 0x9F], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0x80], [0xEF, 0xBF, 0xBD], [0xFF],
        ]
        var random = SplitMix64(seed: 8)
        for round in 0..<4_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(random.next() % 24) {
                if round % 2 == 0 {
                    bytes += pieces[Int(random.next() % UInt64(pieces.count))]
                } else {
                    // Mostly ASCII, so that a whole string of it is common.
                    let byte = UInt8(truncatingIfNeeded: random.next())
                    bytes.append(random.next() % 8 == 0 ? byte : byte & 0x7F)
                }
            }
            let expected = String(validating: bytes, as: UTF8.self)
            #expect(WireCodec.Reader.validUTF8(bytes[...]) == expected, "\(bytes)")
        }
    }
}
