import FuzzSupport
import KvorumCore

/// The bytes a peer connection receives after its hello: length-prefixed
/// frames (`PeerFrame`) each carrying one `WireCodec` message.
///
/// Nothing may trap. Frames are split as the server's channel decoder splits
/// them; every payload, and the whole input as one payload, goes through
/// `WireCodec.decode`. A message that decodes must survive re-encoding:
/// `decode(encode(m)) == m`, and encoding that again gives the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func peerFramesTarget(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = Fuzz.bytes(start, count)
    checkMessage(input)
    var rest = input[...]
    while true {
        let found: Int?
        do {
            found = try PeerFrame.payloadLength(atStartOf: rest, maximumFrameSize: maximumFrameSize)
        } catch {
            Fuzz.check(error.size > maximumFrameSize, "refused a frame of \(error.size) bytes")
            break
        }
        guard let length = found else {
            Fuzz.check(
                rest.count < PeerFrame.headerSize
                    || PeerFrame.payloadLength(announcedBy: rest) > rest.count - PeerFrame.headerSize,
                "a whole frame was not split off")
            break
        }
        Fuzz.check(PeerFrame.header(payloadLength: length) == Array(rest.prefix(PeerFrame.headerSize)), "header")
        let frameEnd = rest.startIndex + PeerFrame.headerSize + length
        // One byte short, the same frame is incomplete.
        Fuzz.check(
            (try? PeerFrame.payloadLength(atStartOf: rest[..<(frameEnd - 1)], maximumFrameSize: maximumFrameSize))
                == .some(nil),
            "a frame one byte short was split off")
        checkMessage(Array(rest[(rest.startIndex + PeerFrame.headerSize)..<frameEnd]))
        rest = rest[frameEnd...]
    }
    return 0
}

/// Small, so that the fuzzer also reaches the refusal of big frames.
private let maximumFrameSize = 4096

private func checkMessage(_ payload: [UInt8]) {
    guard let message = try? WireCodec.decode(payload) else { return }
    let encoded = WireCodec.encode(message)
    let again = try? WireCodec.decode(encoded)
    Fuzz.check(again == message, "decode(encode(m)) != m for \(message)")
    Fuzz.check(again.map(WireCodec.encode) == encoded, "encoding is not stable for \(message)")
}

extension PeerFrame {
    /// The length a header announces, read independently of `PeerFrame`.
    fileprivate static func payloadLength(announcedBy bytes: ArraySlice<UInt8>) -> Int {
        bytes.prefix(headerSize).reduce(0) { $0 << 8 | Int($1) }
    }
}
