/// One frame of the binary client protocol (docs/binary-protocol.md):
///
///     u32 length      bytes that follow: 5 + the body's length (big-endian)
///     u8  opcode      what the frame is (`Opcode`)
///     u32 request id  chosen by the client, echoed in the answer
///     …   body        the opcode's fields
///
/// Pure: no I/O, no NIO, no Foundation, so the node, the clients, the
/// benchmark and a fuzzer share it.
public struct Frame: Equatable, Sendable {
    /// Bytes of the length prefix.
    public static let lengthBytes = 4
    /// Bytes the length counts besides the body: opcode and request id.
    public static let headerBytes = 5

    public var opcode: UInt8
    public var id: UInt32
    public var body: [UInt8]

    public init(opcode: UInt8, id: UInt32, body: [UInt8]) {
        self.opcode = opcode
        self.id = id
        self.body = body
    }

    /// The frame on the wire, length prefix included.
    public var bytes: [UInt8] {
        var writer = ByteWriter()
        writer.reserve(Self.lengthBytes + Self.headerBytes + body.count)
        writer.u32(UInt32(Self.headerBytes + body.count))
        writer.u8(opcode)
        writer.u32(id)
        writer.raw(body)
        return writer.bytes
    }
}

/// Why bytes are not a frame; each closes the connection, as the next
/// frame's start is no longer known.
public enum FramingError: Error, Equatable, Sendable {
    /// The length is below `Frame.headerBytes`: no room for opcode and id.
    case tooShort(length: UInt32)
    /// The length is above the reader's limit.
    case tooLarge(length: UInt32, limit: Int)
}

/// Cuts frames out of a byte stream as it arrives. A frame's length is
/// checked as soon as its prefix is in, so a frame over the limit is
/// refused before its body is buffered.
public struct FrameSplitter: Sendable {
    /// The largest `length` accepted (opcode, id and body).
    public let maxLength: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maxLength: Int) { self.maxLength = maxLength }

    /// Appends received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received and not yet cut into frames.
    public var pendingBytes: Int { buffer.count - start }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() throws(FramingError) -> Frame? {
        guard buffer.count - start >= Frame.lengthBytes else { return nil }
        var reader = ByteReader(buffer[start..<(start + Frame.lengthBytes)])
        let length = reader.u32()!
        guard length >= Frame.headerBytes else { throw .tooShort(length: length) }
        guard Int(length) <= maxLength else { throw .tooLarge(length: length, limit: maxLength) }
        let end = start + Frame.lengthBytes + Int(length)
        guard buffer.count >= end else { return nil }
        var header = ByteReader(buffer[(start + Frame.lengthBytes)..<end])
        let opcode = header.u8()!
        let id = header.u32()!
        let frame = Frame(
            opcode: opcode, id: id, body: Array(buffer[(start + Frame.lengthBytes + Frame.headerBytes)..<end]))
        start = end
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 16 {
            buffer.removeFirst(start)
            start = 0
        }
        return frame
    }
}

/// Writes the protocol's big-endian fields.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func reserve(_ count: Int) { bytes.reserveCapacity(count) }
    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    public mutating func u32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    public mutating func raw(_ value: some Collection<UInt8>) { bytes.append(contentsOf: value) }

    /// A short field: u16 length, then the bytes (at most 65,535 of them;
    /// the caller checks).
    public mutating func short(_ value: some Collection<UInt8>) {
        u16(UInt16(value.count))
        raw(value)
    }

    /// A short field holding UTF-8 text.
    public mutating func short(_ text: String) { short(Array(text.utf8)) }

    /// A long field: u32 length, then the bytes.
    public mutating func long(_ value: some Collection<UInt8>) {
        u32(UInt32(value.count))
        raw(value)
    }
}

/// Reads the protocol's big-endian fields; each returns nil when the
/// bytes run out (the reader then stays where it was).
public struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { position == bytes.endIndex }

    private mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.endIndex - position >= count else { return nil }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    public mutating func u8() -> UInt8? { take(1)?.first }

    public mutating func u16() -> UInt16? {
        guard let two = take(2) else { return nil }
        return UInt16(two[two.startIndex]) << 8 | UInt16(two[two.startIndex + 1])
    }

    public mutating func u32() -> UInt32? {
        guard let four = take(4) else { return nil }
        return four.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func short() -> [UInt8]? {
        let saved = position
        guard let count = u16(), let value = take(Int(count)) else {
            position = saved
            return nil
        }
        return Array(value)
    }

    /// A short field that must be UTF-8 text.
    public mutating func shortText() -> String? {
        let saved = position
        guard let bytes = short(), let text = String(validating: bytes, as: UTF8.self) else {
            position = saved
            return nil
        }
        return text
    }

    public mutating func long() -> [UInt8]? {
        let saved = position
        guard let count = u32(), let value = take(Int(count)) else {
            position = saved
            return nil
        }
        return Array(value)
    }
}
