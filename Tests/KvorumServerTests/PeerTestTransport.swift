import KvorumCore
import Logging
import NIOCore
import NIOEmbedded

@testable import KvorumServer

/// A `PeerTransport` whose connections are `EmbeddedChannel`s: the peer
/// pipeline runs in memory, bytes in and frames out are written and read by
/// hand, and every message the transport delivers is recorded.
///
/// Embedded channels run on the thread that made them, so each test builds
/// its own and stays synchronous.
final class PeerTestTransport {
    static let ownName = "node1"
    static let ownAddress: Address = "127.0.0.1:7001"

    private final class Inbox {
        var delivered: [(from: Address, message: PeerMessage)] = []
    }

    let loop = EmbeddedEventLoop()
    let transport: PeerTransport
    private let inbox: Inbox

    init(ownAddress: Address = ownAddress, maximumFrameSize: Int = PeerTransport.Limits().maximumFrameSize) {
        let inbox = Inbox()
        var limits = PeerTransport.Limits()
        limits.maximumFrameSize = maximumFrameSize
        self.inbox = inbox
        transport = PeerTransport(
            loop: loop, ownName: Self.ownName, ownAddress: ownAddress, limits: limits,
            logger: Logger(label: "peer-test", factory: { _ in SwiftLogNoOpLogHandler() }),
            deliver: { inbox.delivered.append(($0, $1)) })
    }

    /// What the transport handed to the node so far, in order.
    var delivered: [(from: Address, message: PeerMessage)] { inbox.delivered }

    /// A connected channel with the transport's pipeline: accepted (its
    /// first frame must be a hello) or, with `dialedTo`, dialed by this node
    /// and greeted as `connect` does.
    func connection(dialedTo address: Address? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try transport.installPeerHandlers(on: channel, dialedTo: address)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 40_000), promise: nil)
        if let address { transport.greet(channel, dialedTo: address) }
        return channel
    }
}

/// Wire bytes of the peer protocol, built by hand so the tests do not use
/// the encoder they check.
enum PeerBytes {
    static let message = PeerMessage(from: "node2", viewDigest: 7, body: .forwardOffer(op: 42))
    static let other = PeerMessage(from: "node2", viewDigest: 7, body: .forwardReady(op: 43))

    /// A frame: the payload's length as a 4-byte big-endian integer, then the payload.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    /// A hello frame: marker byte 0, version 1, the dialer's name (2-byte
    /// big-endian length, then UTF-8), then its peer address.
    static func hello(_ address: Address, name: String = "node2") -> [UInt8] {
        let length = UInt16(name.utf8.count)
        return frame([0, 1, UInt8(length >> 8), UInt8(length & 0xFF)] + Array(name.utf8) + Array(address.utf8))
    }

    static func frame(_ message: PeerMessage) -> [UInt8] {
        frame(WireCodec.encode(message))
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }
}

extension EmbeddedChannel {
    /// Feeds `bytes` to the channel as one read.
    func receive(_ bytes: [UInt8]) throws {
        try writeInbound(PeerBytes.buffer(bytes))
    }

    /// Every byte the channel has written so far.
    func sentBytes() throws -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try readOutbound(as: ByteBuffer.self) {
            out += Array(buffer.readableBytesView)
        }
        return out
    }
}
