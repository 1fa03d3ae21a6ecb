import KvorumCore
import NIOCore
import NIOEmbedded
import Testing

@testable import KvorumServer

/// The hello that opens every peer connection: the dialer's first frame is
/// the marker byte 0, the hello's version (1), the dialer's name and its peer
/// address, which is what the acceptor
/// registers the connection under and names as the sender of every message
/// on it. An accepted connection whose first frame is anything else is
/// closed before it can deliver a message.
struct PeerHandshakeTests {
    static let dialer: Address = "127.0.0.1:7002"

    /// The hello's address becomes the connection's peer: messages on it are
    /// delivered as from that address, and messages to that address are
    /// written on it (no second connection is dialed).
    @Test func helloRegistersTheDialersAddress() throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        #expect(!peer.transport.isConnected(to: Self.dialer))
        try channel.receive(PeerBytes.hello(Self.dialer) + PeerBytes.frame(PeerBytes.message))
        #expect(peer.delivered.map(\.from) == [Self.dialer])
        #expect(peer.delivered.map(\.message) == [PeerBytes.message])
        // `send` to an unregistered address would dial, which an embedded loop cannot.
        try #require(peer.transport.isConnected(to: Self.dialer))

        peer.transport.send(PeerBytes.other, to: Self.dialer)
        peer.transport.flush()
        #expect(try channel.sentBytes() == PeerBytes.frame(PeerBytes.other))
    }

    /// A message before any hello is refused: the connection is closed, the
    /// message is not delivered, and no peer is registered.
    @Test func messageBeforeHelloIsRefused() throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        try channel.receive(PeerBytes.frame(PeerBytes.message) + PeerBytes.hello(Self.dialer))
        #expect(!channel.isActive)
        #expect(peer.delivered.isEmpty)
        #expect(!peer.transport.isConnected(to: Self.dialer))
    }

    /// A first frame that is a hello in form only is refused like any other:
    /// empty, a marker without an address, an address without a port or
    /// with port 0, or text that is no `host:port` at all; a hello of the
    /// first version (an address but no version byte and no name), another
    /// version, an empty name, a name longer than the frame.
    @Test(
        arguments: [
            [], [0], [0, 1, 0, 1] + Array("n127.0.0.1".utf8), [0, 1, 0, 1] + Array("n127.0.0.1:0".utf8),
            [0, 1, 0, 1] + Array("nnode2".utf8), [0xFF, 1, 0, 1] + Array("n127.0.0.1:7002".utf8),
            [0] + Array("127.0.0.1:7002".utf8), [0, 2, 0, 1] + Array("n127.0.0.1:7002".utf8),
            [0, 1, 0, 0] + Array("127.0.0.1:7002".utf8), [0, 1, 0, 99] + Array("n127.0.0.1:7002".utf8),
        ] as [[UInt8]])
    func malformedHelloIsRefused(payload: [UInt8]) throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection()
        try channel.receive(PeerBytes.frame(payload) + PeerBytes.frame(PeerBytes.message))
        #expect(!channel.isActive)
        #expect(peer.delivered.isEmpty)
        #expect(!peer.transport.isConnected(to: Self.dialer))
    }

    /// A connection this node dialed opens with its own hello, and needs
    /// none back: the peer is known from the dial, and the peer's messages
    /// are delivered as from the dialed address.
    @Test func dialedConnectionOpensWithOwnHello() throws {
        let peer = PeerTestTransport()
        let channel = try peer.connection(dialedTo: Self.dialer)
        #expect(
            try channel.sentBytes() == PeerBytes.hello(PeerTestTransport.ownAddress, name: PeerTestTransport.ownName))
        #expect(peer.transport.isConnected(to: Self.dialer))
        try channel.receive(PeerBytes.frame(PeerBytes.message))
        #expect(peer.delivered.map(\.from) == [Self.dialer])
        #expect(peer.delivered.map(\.message) == [PeerBytes.message])
    }

    /// When both nodes dial each other at once, each ends up with two
    /// connections to the other. Both keep the one the lower address
    /// dialed, whichever completes first, and the other is closed.
    @Test(arguments: [true, false], [true, false])
    func simultaneousDialKeepsTheLowerAddressesConnection(ownAddressIsLower: Bool, dialedFirst: Bool) throws {
        let peer = PeerTestTransport(ownAddress: ownAddressIsLower ? "127.0.0.1:7001" : "127.0.0.1:7003")
        let dialed: EmbeddedChannel
        let accepted: EmbeddedChannel
        if dialedFirst {
            dialed = try peer.connection(dialedTo: Self.dialer)
            accepted = try peer.connection()
            try accepted.receive(PeerBytes.hello(Self.dialer))
        } else {
            accepted = try peer.connection()
            try accepted.receive(PeerBytes.hello(Self.dialer))
            dialed = try peer.connection(dialedTo: Self.dialer)
        }
        let (kept, closed) = ownAddressIsLower ? (dialed, accepted) : (accepted, dialed)
        #expect(kept.isActive)
        #expect(!closed.isActive)
        _ = try kept.sentBytes()
        try #require(peer.transport.isConnected(to: Self.dialer))
        peer.transport.send(PeerBytes.message, to: Self.dialer)
        peer.transport.flush()
        #expect(try kept.sentBytes() == PeerBytes.frame(PeerBytes.message))
    }
}
