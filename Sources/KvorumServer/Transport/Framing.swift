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

/// Writes each outbound payload as one length-prefixed frame (`PeerFrame`).
final class FrameEncoder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        var frame = context.channel.allocator.buffer(capacity: PeerFrame.headerSize + payload.readableBytes)
        frame.writeBytes(PeerFrame.header(payloadLength: payload.readableBytes))
        frame.writeImmutableBuffer(payload)
        context.write(wrapOutboundOut(frame), promise: promise)
    }
}
