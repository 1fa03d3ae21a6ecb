import FuzzSupport
import KvorumBinaryProtocol

/// What the node reads from a binary-protocol connection
/// (docs/binary-protocol.md): the bytes cut into frames by `FrameSplitter`,
/// in two reads split at the input's first byte, and each frame decoded as
/// a request (as the node does) and as an answer (as the clients do).
///
/// Nothing may trap, and what parses must agree with its encoders: the
/// frames cut are the same whatever the split; a frame's bytes re-encode
/// the input they were cut from; a request that decodes encodes back to
/// the same frame; an answer that decodes decodes again to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func binaryFramesTarget(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = Fuzz.bytes(start, count)
    guard !input.isEmpty else { return 0 }
    let split = min(Int(input[0]), input.count - 1)
    let stream = Array(input.dropFirst())
    let whole = frames(of: [stream])
    let pieces = frames(of: [Array(stream[..<min(split, stream.count)]), Array(stream[min(split, stream.count)...])])
    Fuzz.check(whole.frames == pieces.frames, "the frames depend on how the bytes arrive")
    Fuzz.check(whole.error == pieces.error, "the framing error depends on how the bytes arrive")
    let consumed = whole.frames.flatMap(\.bytes)
    Fuzz.check(Array(stream.prefix(consumed.count)) == consumed, "frames do not re-encode their bytes")
    for frame in whole.frames {
        if let request = try? Request(frame) {
            Fuzz.check(request.frame(id: frame.id) == frame, "request \(request) does not encode back")
        }
        if let response = try? Response(frame) {
            Fuzz.check(
                (try? Response(response.frame(id: frame.id))) == response, "answer \(response) does not decode again")
        }
    }
    return 0
}

/// The frames cut from `reads`, in order, and the framing error that
/// stopped the cutting, if any.
private func frames(of reads: [[UInt8]]) -> (frames: [Frame], error: FramingError?) {
    var splitter = FrameSplitter(maxLength: 1 << 16)
    var cut: [Frame] = []
    for read in reads {
        splitter.append(read)
        do {
            while let frame = try splitter.next() { cut.append(frame) }
        } catch {
            return (cut, error)
        }
    }
    return (cut, nil)
}
