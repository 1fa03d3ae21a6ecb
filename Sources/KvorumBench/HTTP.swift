/// An HTTP/1.1 response, as much of it as the drivers need.
public struct HTTPResponse {
    /// The status code.
    public var status: Int
    /// The header fields, names lowercased, in order.
    public var headers: [(name: String, value: String)]
    /// The body (de-chunked).
    public var body: [UInt8]

    /// The value of the first field named `name` (lowercase).
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// Whether the server will close the connection after this response.
    var closes: Bool { header("connection")?.lowercased() == "close" }
}

/// The HTTP/1.1 requests and responses of the benchmark's keep-alive clients.
enum HTTP1 {
    /// The bytes of a request with a body (an empty body is sent with
    /// `Content-Length: 0` unless the method is GET).
    static func request(
        method: String, path: String, host: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// Reads one response: status line, header fields, then a body of
    /// `Content-Length` bytes or in chunks.
    static func readResponse(from reader: ByteReader) throws -> HTTPResponse {
        let statusLine = String(decoding: try reader.readLine(), as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw BenchError.malformed("status line \(statusLine.prefix(60))")
        }
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try reader.readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw BenchError.malformed("header line")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces
            headers.append((name, value))
        }
        var response = HTTPResponse(status: status, headers: headers, body: [])
        if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = String(decoding: try reader.readLine(), as: UTF8.self)
                guard let size = Int(sizeLine.split(separator: ";")[0].trimmingSpaces, radix: 16), size >= 0 else {
                    throw BenchError.malformed("chunk size")
                }
                if size == 0 {
                    while !(try reader.readLine()).isEmpty {}  // trailer fields
                    break
                }
                response.body += try reader.read(count: size)
                _ = try reader.readLine()
            }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try reader.read(count: length)
        }
        return response
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
