import NIOCore
import NIOEmbedded
import Testing

@testable import KvorumServer

/// The peer transport's bound on what it buffers for a peer that does not
/// read (`--peer-buffer-bytes`), on in-memory connections.
@Suite(.serialized)
struct PeerLimitsTests {
    static let peer = "127.0.0.1:7002"

    /// While a connection is not writable (its buffer holds more than the
    /// high-water mark), messages to that peer are dropped and counted, not
    /// buffered; once it drains, they are written again.
    @Test func messagesToAPeerThatDoesNotReadAreDropped() throws {
        let test = PeerTestTransport()
        let channel = try test.connection(dialedTo: Self.peer)
        _ = try channel.sentBytes()
        let before = Self.droppedForFullBuffers()

        channel.isWritable = false
        for _ in 0..<3 { test.transport.send(PeerBytes.message, to: Self.peer) }
        test.transport.flush()
        #expect(try channel.sentBytes().isEmpty)
        #expect(Self.droppedForFullBuffers() == before + 3)

        channel.isWritable = true
        test.transport.send(PeerBytes.message, to: Self.peer)
        test.transport.flush()
        #expect(try channel.sentBytes() == PeerBytes.frame(PeerBytes.message))
        #expect(Self.droppedForFullBuffers() == before + 3)
    }

    /// `kvorum_peer_messages_dropped_total{reason="buffer_full"}` as the registry renders it.
    private static func droppedForFullBuffers() -> Double {
        _ = LimitMetrics.shared
        let name = "kvorum_peer_messages_dropped_total{reason=\"buffer_full\"} "
        let text = ServerMetrics.registry.emitToString()
        let line = text.split(separator: "\n").first { $0.hasPrefix(name) }
        return line.flatMap { Double($0.dropFirst(name.count)) } ?? -1
    }
}
