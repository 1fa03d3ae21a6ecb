/// Peer frames: a 4-byte big-endian payload length, then the payload.
///
/// This is the splitting rule alone, without I/O, so the server's channel
/// decoder and the fuzzers share it. Frames longer than the reader's maximum
/// are refused as soon as their header is in: the connection is closed
/// instead of buffering without bound for a garbage or hostile peer.
public enum PeerFrame {
    /// The bytes of the length prefix.
    public static let headerSize = 4

    /// A header announcing a payload above the reader's maximum.
    public struct TooLarge: Error, Equatable, CustomStringConvertible {
        public var size: Int
        public var limit: Int
        public var description: String { "peer frame of \(size) bytes exceeds the limit of \(limit)" }
    }

    /// The payload length of the frame at the start of `bytes` once all of
    /// it is there; nil while the header or the payload is incomplete.
    /// Throws as soon as the header announces more than `maximumFrameSize`
    /// bytes (a payload of exactly the maximum is accepted).
    public static func payloadLength(
        atStartOf bytes: some Collection<UInt8>, maximumFrameSize: Int
    ) throws(TooLarge) -> Int? {
        guard bytes.count >= headerSize else { return nil }
        let length = Int(bytes.prefix(headerSize).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= maximumFrameSize else { throw TooLarge(size: length, limit: maximumFrameSize) }
        return bytes.count - headerSize >= length ? length : nil
    }

    /// The length prefix of a payload of `payloadLength` bytes.
    public static func header(payloadLength: Int) -> [UInt8] {
        let length = UInt32(payloadLength)
        return (0..<headerSize).reversed().map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    }
}
