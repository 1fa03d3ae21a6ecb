import KvorumCore
import NIOCore
import NIOEmbedded
import Testing

@testable import KvorumServer

/// Peer frames on the wire: a 4-byte big-endian length, then the payload.
/// TCP delivers them cut anywhere and glued together; the decoder must give
/// back each payload once, and refuse a frame longer than the limit or a
/// payload that is not a peer message by closing the connection.
struct PeerFramingTests {
    static let dialer: Address = "127.0.0.1:7002"

    /// A hello and two messages, fed in pieces of every size from one byte
    /// up: each message is delivered once, whole, in order.
    @Test(arguments: [1, 2, 3, 5, 7, 64])
    func framesSplitAcrossReadsDecodeOnce(pieceSize: Int) throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        let bytes =
            PeerBytes.hello(Self.dialer) + PeerBytes.frame(PeerBytes.message) + PeerBytes.frame(PeerBytes.other)
        for start in stride(from: 0, to: bytes.count, by: pieceSize) {
            try channel.receive(Array(bytes[start..<min(start + pieceSize, bytes.count)]))
        }
        #expect(peer.delivered.map(\.message) == [PeerBytes.message, PeerBytes.other])
        #expect(peer.delivered.allSatisfy { $0.from == Self.dialer })
        #expect(channel.isActive)
    }

    /// Several frames in one read, the last one cut short: the whole ones
    /// are delivered at once, the cut one when its rest arrives.
    @Test func severalFramesInOneRead() throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        let third = PeerMessage(from: "node2", viewDigest: 9, body: .forwardOffer(op: 44))
        let thirdFrame = PeerBytes.frame(third)
        try channel.receive(
            PeerBytes.hello(Self.dialer) + PeerBytes.frame(PeerBytes.message) + PeerBytes.frame(PeerBytes.other)
                + thirdFrame.prefix(6))
        #expect(peer.delivered.map(\.message) == [PeerBytes.message, PeerBytes.other])
        try channel.receive(Array(thirdFrame.dropFirst(6)))
        #expect(peer.delivered.map(\.message) == [PeerBytes.message, PeerBytes.other, third])
    }

    /// A message sent to a connected peer leaves as exactly one frame: its
    /// length, then the wire encoding.
    @Test func sentMessageIsOneLengthPrefixedFrame() throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        try channel.receive(PeerBytes.hello(Self.dialer))
        try #require(peer.transport.isConnected(to: Self.dialer))
        peer.transport.send(PeerBytes.message, to: Self.dialer)
        peer.transport.flush()
        #expect(try channel.sentBytes() == PeerBytes.frame(PeerBytes.message))
    }

    /// A message sent to several peers in one turn (a write to its
    /// replicas) reaches each as its own frame, and a different message
    /// sent between or after the copies is not taken for it.
    @Test func sameMessageToSeveralPeersAndOthersBetween() throws {
        let peer = PeerTestTransport()
        let first = try peer.connection()
        try first.receive(PeerBytes.hello(Self.dialer))
        let second = try peer.connection()
        try second.receive(PeerBytes.hello("127.0.0.1:7003", name: "node3"))
        try #require(peer.transport.isConnected(to: "127.0.0.1:7003"))
        peer.transport.send(PeerBytes.message, to: Self.dialer)
        peer.transport.send(PeerBytes.message, to: "127.0.0.1:7003")
        peer.transport.send(PeerBytes.other, to: "127.0.0.1:7003")
        peer.transport.send(PeerBytes.message, to: Self.dialer)
        peer.transport.flush()
        peer.transport.send(PeerBytes.other, to: Self.dialer)
        peer.transport.flush()
        #expect(
            try first.sentBytes()
                == PeerBytes.frame(PeerBytes.message) + PeerBytes.frame(PeerBytes.message)
                + PeerBytes.frame(PeerBytes.other))
        #expect(try second.sentBytes() == PeerBytes.frame(PeerBytes.message) + PeerBytes.frame(PeerBytes.other))
    }

    /// The limit is inclusive: a payload of exactly `maximumFrameSize`
    /// bytes passes the splitter, and nothing is cut from it; one byte more
    /// throws as soon as the header is in.
    @Test func frameOfExactlyTheLimitPasses() throws {
        var frames = PeerFrameSplitter(maximumFrameSize: 8)
        frames.append(PeerBytes.buffer(PeerBytes.frame(Array(1...8))))
        let payload = try #require(try frames.next())
        #expect(Array(payload.readableBytesView) == Array(1...8))
        #expect(try frames.next() == nil)
        frames.append(PeerBytes.buffer([0, 0, 0, 9]))
        let tooLarge = #expect(throws: PeerFrame.TooLarge.self) { try frames.next() }
        #expect(tooLarge?.size == 9 && tooLarge?.limit == 8)
    }

    /// Frames cut anywhere and glued together come out whole, in order,
    /// each once; an empty payload is a frame too.
    @Test func splitterJoinsAndCutsReads() throws {
        let payloads: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 300), [4]]
        let stream = payloads.flatMap(PeerBytes.frame)
        for pieceSize in [1, 2, 5, 300, stream.count] {
            var frames = PeerFrameSplitter(maximumFrameSize: 1 << 20)
            var out: [[UInt8]] = []
            for start in stride(from: 0, to: stream.count, by: pieceSize) {
                frames.append(PeerBytes.buffer(Array(stream[start..<min(start + pieceSize, stream.count)])))
                while let payload = try frames.next() { out.append(Array(payload.readableBytesView)) }
            }
            #expect(out == payloads, "pieces of \(pieceSize)")
        }
    }

    /// A length over the limit closes the connection as soon as the length
    /// is read: the node never waits for, or buffers, the oversized body.
    @Test func oversizedFrameClosesTheConnection() throws {
        let peer = PeerTestTransport(maximumFrameSize: 64)
        let channel = try peer.connection()
        try channel.receive(PeerBytes.hello(Self.dialer))
        #expect(peer.transport.isConnected(to: Self.dialer))
        try channel.receive([0, 0, 0, 65])
        #expect(!channel.isActive)
        #expect(!peer.transport.isConnected(to: Self.dialer))
        #expect(peer.delivered.isEmpty)
    }

    /// A frame whose payload is no peer message (empty, an unknown codec
    /// version, truncated, or a hello after the hello) closes the connection
    /// and delivers nothing: neither it nor a valid frame that arrived
    /// behind it in the same read.
    @Test(
        arguments: [
            [], [1], [9, 1, 2, 3], Array(WireCodec.encode(PeerBytes.message).dropLast()),
            [0, 1, 0, 1] + Array("n127.0.0.1:7003".utf8),
        ] as [[UInt8]])
    func malformedPayloadClosesTheConnection(payload: [UInt8]) throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        try channel.receive(PeerBytes.hello(Self.dialer))
        try channel.receive(PeerBytes.frame(payload) + PeerBytes.frame(PeerBytes.message))
        #expect(!channel.isActive)
        #expect(peer.delivered.isEmpty)
    }
}
