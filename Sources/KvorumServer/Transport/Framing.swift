import KvorumCore
import NIOCore

/// Splits inbound bytes into peer frames (`PeerFrame`) and passes on each
/// payload. A frame above `maximumFrameSize` throws `PeerFrame.TooLarge`,
/// which closes the connection.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maximumFrameSize: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let limit = maximumFrameSize
        let found = try buffer.withUnsafeReadableBytes { bytes throws(PeerFrame.TooLarge) in
            try PeerFrame.payloadLength(atStartOf: bytes, maximumFrameSize: limit)
        }
        guard let length = found else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: PeerFrame.headerSize)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: length)!))
        return .continue
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
