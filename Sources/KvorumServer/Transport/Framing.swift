import KvorumCore
import NIOCore

/// Cuts a peer connection's inbound bytes into frames (`PeerFrame`) and
/// gives back each payload, as a slice of the bytes read. A frame whose
/// header announces more than `maximumFrameSize` throws
/// `PeerFrame.TooLarge` as soon as the header is in, which closes the
/// connection.
///
/// In place of NIO's `ByteToMessageHandler`: generic over its decoder and
/// not specialized across modules, it looked up type metadata twice on
/// every read, about 800 instructions, as much as framing a message costs.
struct PeerFrameSplitter {
    let maximumFrameSize: Int
    /// Bytes read and not yet given back: the start of a frame, or nothing.
    private var pending: ByteBuffer?

    init(maximumFrameSize: Int) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// Bytes as they were read.
    mutating func append(_ bytes: ByteBuffer) {
        guard var rest = pending else {
            pending = bytes
            return
        }
        pending = nil
        rest.discardReadBytes()
        rest.writeImmutableBuffer(bytes)
        pending = rest
    }

    /// The payload of the next whole frame; nil until all of it is in.
    mutating func next() throws(PeerFrame.TooLarge) -> ByteBuffer? {
        guard var bytes = pending else { return nil }
        pending = nil
        defer { if bytes.readableBytes > 0 { pending = bytes } }
        let limit = maximumFrameSize
        let found = try bytes.withUnsafeReadableBytes { bytes throws(PeerFrame.TooLarge) in
            try PeerFrame.payloadLength(atStartOf: bytes, maximumFrameSize: limit)
        }
        guard let length = found else { return nil }
        bytes.moveReaderIndex(forwardBy: PeerFrame.headerSize)
        return bytes.readSlice(length: length)
    }
}

extension ByteBufferAllocator {
    /// One peer frame (`PeerFrame`) in one buffer: the length prefix, then
    /// what `writePayload` writes. Every write to a peer connection is one,
    /// made where its payload is written: a handler that framed payloads
    /// on their way out cost a buffer and a copy per message.
    func peerFrame(payloadCapacity: Int, _ writePayload: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var frame = buffer(capacity: PeerFrame.headerSize + payloadCapacity)
        frame.moveWriterIndex(forwardBy: PeerFrame.headerSize)
        writePayload(&frame)
        frame.setBytes(
            PeerFrame.header(payloadLength: frame.readableBytes - PeerFrame.headerSize), at: frame.readerIndex)
        return frame
    }
}
