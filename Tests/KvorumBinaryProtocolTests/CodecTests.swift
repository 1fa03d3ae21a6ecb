import KvorumBinaryProtocol
import KvorumTestKit
import Testing

/// The binary protocol's frames byte by byte (docs/binary-protocol.md):
/// the layout the documentation gives, round trips of every message, and
/// the refusals of bytes that are not a frame.
struct CodecTests {
    @Test func aGetFrameIsLaidOutAsDocumented() {
        let bytes = Request.get(key: "ab", r: 2).frame(id: 7).bytes
        // length 10: opcode and id (5), r (1), the key's length (2) and bytes (2)
        #expect(bytes == [0, 0, 0, 10, 0x02, 0, 0, 0, 7, 2, 0, 2, 0x61, 0x62])
    }

    @Test func aPutFrameIsLaidOutAsDocumented() {
        let bytes = Request.put(key: "k", value: [1, 2], w: 3, context: "c", contentType: "t").frame(id: 1).bytes
        #expect(
            bytes == [
                0, 0, 0, 21, 0x03, 0, 0, 0, 1,  // length, opcode, id
                3,  // w
                0, 1, 0x6B,  // key "k"
                0, 1, 0x63,  // context "c"
                0, 1, 0x74,  // content type "t"
                0, 0, 0, 2, 1, 2,  // value
            ])
    }

    @Test func anErrorFrameIsLaidOutAsDocumented() {
        let bytes = Response.error(.notFound, message: "no").frame(id: 258).bytes
        #expect(bytes == [0, 0, 0, 11, 0xFF, 0, 0, 1, 2, 0, 8, 0, 2, 0x6E, 0x6F])
    }

    @Test(arguments: [
        Request.auth(token: "s3cret"), .get(key: "user0000000001", r: 1),
        .put(key: "cart-é", value: Array(0...255), w: 2, context: "ctx", contentType: "application/json"),
        .put(key: "k", value: [], w: 1, context: "", contentType: ""), .delete(key: "k", w: 2, context: ""),
        .delete(key: "k", w: 3, context: "token"), .ping,
    ])
    func requestsRoundTrip(_ request: Request) throws {
        let frame = request.frame(id: 0xDEAD_BEEF)
        #expect(try Request(frame) == request)
        var splitter = FrameSplitter(maxLength: 1 << 20)
        splitter.append(frame.bytes)
        #expect(try splitter.next() == frame)
    }

    @Test(arguments: [
        Response.authenticated(role: "write"), .authenticated(role: ""),
        .values(context: "ctx", tombstones: 1, siblings: 3, values: []),
        .values(
            context: "ctx", tombstones: 0, siblings: 2,
            values: [
                StoredValue(metadata: "m1", contentType: "", bytes: [0, 255]),
                StoredValue(metadata: "m2", contentType: "text/plain", bytes: Array("two".utf8)),
            ]),
        .written(metadata: "meta", siblings: 1), .pong, .error(.unavailable, message: "quorum not reached"),
    ])
    func responsesRoundTrip(_ response: Response) throws {
        #expect(try Response(response.frame(id: 42)) == response)
    }

    /// Frames arrive in pieces of any size, several in one read: the
    /// splitter cuts the same frames out of every split.
    @Test func framesSplitAcrossReadsAreReassembled() throws {
        let frames = (0..<20).map {
            Request.put(key: "k\($0)", value: Array(repeating: 7, count: $0 * 13), w: 2, context: "", contentType: "")
                .frame(id: UInt32($0))
        }
        let stream = frames.flatMap(\.bytes)
        for chunk in [1, 2, 3, 7, 64, stream.count] {
            var splitter = FrameSplitter(maxLength: 1 << 16)
            var cut: [Frame] = []
            var offset = 0
            while offset < stream.count {
                splitter.append(stream[offset..<min(offset + chunk, stream.count)])
                offset += chunk
                while let frame = try splitter.next() { cut.append(frame) }
            }
            #expect(cut == frames, "in chunks of \(chunk)")
            #expect(splitter.pendingBytes == 0)
        }
    }

    @Test func aFrameOverTheLimitIsRefusedFromItsLengthAlone() {
        var splitter = FrameSplitter(maxLength: 100)
        splitter.append([0, 0, 0, 101])
        #expect(throws: FramingError.tooLarge(length: 101, limit: 100)) { try splitter.next() }
    }

    @Test func aLengthWithoutRoomForOpcodeAndIdIsRefused() {
        var splitter = FrameSplitter(maxLength: 100)
        splitter.append([0, 0, 0, 4, 0x05, 0, 0, 0])
        #expect(throws: FramingError.tooShort(length: 4)) { try splitter.next() }
    }

    @Test func bodiesThatDoNotDecodeAreRefused() {
        // A key length past the body's end.
        #expect(throws: Request.DecodingError.malformed(.get)) {
            try Request(Frame(opcode: Opcode.get.rawValue, id: 1, body: [2, 0, 9, 0x61]))
        }
        // Bytes after the last field.
        #expect(throws: Request.DecodingError.malformed(.ping)) {
            try Request(Frame(opcode: Opcode.ping.rawValue, id: 1, body: [0]))
        }
        // A key that is not UTF-8.
        #expect(throws: Request.DecodingError.malformed(.get)) {
            try Request(Frame(opcode: Opcode.get.rawValue, id: 1, body: [2, 0, 1, 0xFF]))
        }
        // An answer's opcode, or none at all, is no request.
        #expect(throws: Request.DecodingError.unknownOpcode(0x82)) {
            try Request(Frame(opcode: 0x82, id: 1, body: []))
        }
        #expect(throws: Request.DecodingError.unknownOpcode(0x40)) {
            try Request(Frame(opcode: 0x40, id: 1, body: []))
        }
        // A values answer that promises more values than it holds.
        #expect(throws: Response.DecodingError.malformed(.values)) {
            try Response(
                Frame(
                    opcode: Opcode.values.rawValue, id: 1,
                    body: [0, 0] + [0, 0, 0, 0] + [0, 0, 0, 0] + [255, 255, 255, 255]))
        }
    }
}

/// The `binary-frames` fuzzer's seeds (Fuzz/corpus/binary-frames): a split
/// point, then frames the encoders wrote.
struct BinaryFramesSeedTests {
    @Test func theSeedCorpusIsCurrent() throws {
        let put = Request.put(
            key: "user0000000001", value: Array("value".utf8), w: 2, context: "", contentType: "text/plain")
        let seeds: [(name: String, bytes: [UInt8])] = [
            ("get", [3] + Request.get(key: "k", r: 2).frame(id: 1).bytes),
            ("put-then-ping", [9] + put.frame(id: 2).bytes + Request.ping.frame(id: 3).bytes),
            (
                "delete-auth",
                [0] + Request.delete(key: "k", w: 2, context: "c").frame(id: 4).bytes
                    + Request.auth(token: "kvt_x").frame(id: 5).bytes
            ),
            (
                "values",
                [5]
                    + Response.values(
                        context: "ctx", tombstones: 1, siblings: 2,
                        values: [StoredValue(metadata: "m", contentType: "", bytes: [1, 2])]
                    ).frame(id: 6).bytes
            ),
            ("error", [1] + Response.error(.unavailable, message: "quorum").frame(id: 7).bytes),
            ("too-large", [2, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]),
        ]
        #expect(try FuzzSeedCorpus.mismatches(target: "binary-frames", seeds: seeds) == [])
    }
}
