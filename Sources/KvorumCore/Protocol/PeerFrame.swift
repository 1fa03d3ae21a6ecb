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

        @usableFromInline
        init(size: Int, limit: Int) {
            self.size = size
            self.limit = limit
        }

        public var description: String { "peer frame of \(size) bytes exceeds the limit of \(limit)" }
    }

    /// The payload length of the frame at the start of `bytes` once all of
    /// it is there; nil while the header or the payload is incomplete.
    /// Throws as soon as the header announces more than `maximumFrameSize`
    /// bytes (a payload of exactly the maximum is accepted).
    ///
    /// Inlinable, so each caller gets a version for its own collection: the
    /// server reads every peer frame's header through it, and the generic
    /// one, walking the header through protocol witnesses, cost about
    /// 40,000 instructions per quorum write (bench/instructions.sh).
    @inlinable
    public static func payloadLength(
        atStartOf bytes: some Collection<UInt8>, maximumFrameSize: Int
    ) throws(TooLarge) -> Int? {
        let count = bytes.count
        guard count >= headerSize else { return nil }
        var length = 0
        var index = bytes.startIndex
        for _ in 0..<headerSize {
            length = length << 8 | Int(bytes[index])
            bytes.formIndex(after: &index)
        }
        guard length <= maximumFrameSize else { throw TooLarge(size: length, limit: maximumFrameSize) }
        return count - headerSize >= length ? length : nil
    }

    /// The length prefix of a payload of `payloadLength` bytes.
    public static func header(payloadLength: Int) -> [UInt8] {
        let length = UInt32(payloadLength)
        return (0..<headerSize).reversed().map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    }
}
