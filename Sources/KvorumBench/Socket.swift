import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an operation of the benchmark failed; `kind` groups the failures in
/// the report.
public enum BenchError: Error, Equatable, CustomStringConvertible {
    /// The connection could not be opened.
    case connect(String)
    /// The connection failed or was closed mid-exchange.
    case io(String)
    /// No answer within the socket timeout.
    case timeout
    /// The peer answered something the client does not understand.
    case malformed(String)
    /// An HTTP status other than the expected ones.
    case status(Int)
    /// The record is missing.
    case notFound
    /// The server answered with an error (Redis `-ERR …`, an etcd error body).
    case server(String)
    /// Redis `WAIT` returned before a replica acknowledged the write.
    case notReplicated

    /// The group of any error a driver throws: its `kind` for a
    /// `BenchError`, its description otherwise.
    static func kind(of error: any Error) -> String {
        (error as? BenchError)?.kind ?? "\(error)"
    }

    /// The failure's group in the report.
    public var kind: String {
        switch self {
        case .connect: "connect"
        case .io: "connection lost"
        case .timeout: "timeout"
        case .malformed: "malformed answer"
        case .status(let code): "HTTP \(code)"
        case .notFound: "not found"
        case .server: "server error"
        case .notReplicated: "WAIT: no replica"
        }
    }

    public var description: String {
        switch self {
        case .connect(let why), .io(let why), .malformed(let why), .server(let why): "\(kind): \(why)"
        default: kind
        }
    }
}

/// Where a driver connects: a host and a port.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// The host name or address.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// The endpoint `host:port`.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `http://host:port[/…]` or `host:port`.
    public init?(_ text: String) {
        var rest = Substring(text)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port), colon > rest.startIndex
        else { return nil }
        host = String(rest[..<colon])
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// A source of protocol bytes: what the HTTP and RESP parsers read from.
protocol ByteReader: AnyObject {
    /// The bytes up to the next CRLF, without it.
    func readLine() throws -> [UInt8]
    /// Exactly `count` bytes.
    func read(count: Int) throws -> [UInt8]
}

/// A connected byte stream the drivers talk over: a plain socket, or a
/// channel (TLS or not) run by SwiftNIO.
protocol Transport: AnyObject {
    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws
    /// Waits for bytes and copies at least one into `buffer`, returning how
    /// many; throws when the stream closes, fails or times out.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A transport with a read buffer: the line and byte-count reads the parsers
/// need. One thread uses it at a time.
final class BufferedTransport: ByteReader {
    private let transport: any Transport
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0

    init(_ transport: any Transport) {
        self.transport = transport
    }

    func write(_ bytes: [UInt8]) throws { try transport.write(bytes) }

    /// Reads more bytes into the buffer (at least one).
    private func fill() throws {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        let end = self.end
        self.end += try buffer.withUnsafeMutableBytes { try transport.receive(into: .init(rebasing: $0[end...])) }
    }

    func readLine() throws -> [UInt8] {
        var scanned = 0  // bytes after `start` known not to begin a CRLF
        while true {
            var i = start + scanned
            while i + 1 < end {
                if buffer[i] == 13, buffer[i + 1] == 10 {
                    let line = Array(buffer[start..<i])
                    start = i + 2
                    return line
                }
                i += 1
            }
            scanned = max(0, end - start - 1)
            try fill()
        }
    }

    func read(count: Int) throws -> [UInt8] {
        while end - start < count { try fill() }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        return bytes
    }
}

/// A blocking TCP connection (TCP_NODELAY, send and receive timeouts).
final class Socket: Transport {
    private let fd: Int32
    /// Connects to `endpoint`; connecting, reads and writes time out after `timeout` seconds.
    init(to endpoint: Endpoint, timeout: Double) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list) == 0, let first = list else {
            throw BenchError.connect("cannot resolve \(endpoint.host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw BenchError.connect(String(cString: strerror(errno))) }
        var limit = timeval()
        limit.tv_sec = .init(timeout)
        limit.tv_usec = .init((timeout - timeout.rounded(.down)) * 1e6)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        // Set before connecting: on Linux the send timeout also bounds a
        // blocking connect (to an unreachable host it fails with EINPROGRESS).
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let why = errno == EINPROGRESS ? "no answer within \(timeout) s" : String(cString: strerror(errno))
            close(fd)
            throw BenchError.connect("\(endpoint): \(why)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == EAGAIN || errno == EWOULDBLOCK
                    ? BenchError.timeout : BenchError.io(String(cString: strerror(errno)))
            }
            sent += n
        }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress!, buffer.count, 0)
            if n > 0 { return n }
            if n == 0 { throw BenchError.io("closed by peer") }
            if errno == EINTR { continue }
            throw errno == EAGAIN || errno == EWOULDBLOCK
                ? BenchError.timeout : BenchError.io(String(cString: strerror(errno)))
        }
    }
}
