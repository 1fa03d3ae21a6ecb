/// A value of the Redis serialization protocol (RESP2).
enum RESPValue: Equatable {
    /// `+OK`
    case simple(String)
    /// `-ERR …`
    case error(String)
    /// `:42`
    case integer(Int)
    /// `$3 foo`, or `$-1` (nil) for a missing key.
    case bulk([UInt8]?)
    /// `*2 …`, or `*-1` (nil).
    case array([RESPValue]?)
}

/// Encoding of commands and decoding of replies in RESP2.
enum RESP {
    /// A command as an array of bulk strings.
    static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            bytes += Array("$\(argument.count)\r\n".utf8)
            bytes += argument
            bytes += [13, 10]
        }
        return bytes
    }

    /// Reads one reply.
    static func read(from reader: ByteReader) throws -> RESPValue {
        let line = try reader.readLine()
        guard let type = line.first else { throw BenchError.malformed("empty RESP line") }
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch type {
        case UInt8(ascii: "+"): return .simple(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"):
            guard let value = Int(rest) else { throw BenchError.malformed("RESP integer \(rest)") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Int(rest), length >= -1 else { throw BenchError.malformed("RESP bulk length") }
            if length == -1 { return .bulk(nil) }
            let bytes = try reader.read(count: length)
            guard try reader.readLine().isEmpty else { throw BenchError.malformed("RESP bulk end") }
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(rest), count >= -1 else { throw BenchError.malformed("RESP array length") }
            if count == -1 { return .array(nil) }
            return .array(try (0..<count).map { _ in try read(from: reader) })
        default:
            throw BenchError.malformed("RESP type \(UnicodeScalar(type))")
        }
    }
}
