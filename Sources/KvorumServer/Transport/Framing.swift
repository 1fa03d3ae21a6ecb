import NIOCore

/// Peer frames: a 4-byte big-endian payload length, then the payload.
///
/// Frames longer than `maximumFrameSize` are refused: the decoder throws and
/// the connection is closed, so a garbage or hostile peer cannot make the
/// node buffer without bound.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct FrameTooLarge: Error, CustomStringConvertible {
        var size: Int
        var limit: Int
        var description: String { "peer frame of \(size) bytes exceeds the limit of \(limit)" }
    }

    let maximumFrameSize: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= maximumFrameSize else { throw FrameTooLarge(size: Int(length), limit: maximumFrameSize) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Writes each outbound payload as one length-prefixed frame.
final class FrameEncoder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        var frame = context.channel.allocator.buffer(capacity: 4 + payload.readableBytes)
        frame.writeInteger(UInt32(payload.readableBytes))
        frame.writeImmutableBuffer(payload)
        context.write(wrapOutboundOut(frame), promise: promise)
    }
}
