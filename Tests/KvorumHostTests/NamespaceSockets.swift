import Foundation

@testable import kvorum_chaos

/// Sockets of the test process that live in a test host's network namespace:
/// the calling thread enters the namespace (`setns`, which affects only that
/// thread) to create the socket and returns to its own at once; the socket
/// stays in the namespace it was created in. So one test thread can talk
/// from host A to host B and time it on one clock.
enum NetworkNamespace {
    private typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    private static let newNetworkNamespace: Int32 = 0x4000_0000  // CLONE_NEWNET

    /// Runs `body` with the calling thread in the network namespace `name`.
    static func run<T>(in name: String, _ body: () throws -> T) throws -> T {
        // Swift's Glibc module does not declare setns.
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "setns") else { throw NetemError("no setns in libc") }
        let setNamespace = unsafeBitCast(symbol, to: SetNamespace.self)
        let own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard own >= 0 else { throw NetemError("open own namespace: \(lastError())") }
        defer { close(own) }
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw NetemError("open namespace \(name): \(lastError())") }
        defer { close(target) }
        guard setNamespace(target, newNetworkNamespace) == 0 else {
            throw NetemError("enter namespace \(name): \(lastError())")
        }
        defer { precondition(setNamespace(own, newNetworkNamespace) == 0, "cannot return to own namespace") }
        return try body()
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// An IPv4 socket address.
struct SocketAddress {
    var address: String
    var port: UInt16

    func withRaw<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var raw = sockaddr_in()
        raw.sin_family = sa_family_t(AF_INET)
        raw.sin_port = port.bigEndian
        precondition(inet_pton(AF_INET, address, &raw.sin_addr) == 1, "not an IPv4 address: \(address)")
        return withUnsafePointer(to: &raw) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

/// A socket descriptor with the calls the host tests need, every wait bounded.
final class TestSocket {
    let descriptor: Int32

    /// A socket of `type` in `namespace`, bound to `address` and a free port.
    init(namespace: String, type: __socket_type, address: String) throws {
        descriptor = try NetworkNamespace.run(in: namespace) { socket(AF_INET, Int32(type.rawValue), 0) }
        guard descriptor >= 0 else { throw NetemError("socket: \(NetworkNamespace.lastError())") }
        let bound = SocketAddress(address: address, port: 0).withRaw { bind(descriptor, $0, $1) }
        guard bound == 0 else { throw NetemError("bind \(address): \(NetworkNamespace.lastError())") }
    }

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// The address the socket is bound to.
    var local: SocketAddress {
        var raw = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &raw) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &raw.sin_addr, &text, socklen_t(text.count))
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return SocketAddress(address: address, port: UInt16(bigEndian: raw.sin_port))
    }

    /// Whether something can be read within `patience`.
    func readable(within patience: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + patience
        while true {
            let left = max(.zero, deadline - .now)
            let ready = poll(&entry, 1, Int32((left / .milliseconds(1)).rounded(.up)))
            if ready > 0 { return true }
            if ready == 0 && ContinuousClock.now >= deadline { return false }
            if ready < 0 && errno != EINTR { return false }
        }
    }

    /// Sends `payload` (a datagram to `destination`, or on a connection if `nil`).
    func send(_ payload: [UInt8], to destination: SocketAddress? = nil) throws {
        let sent = payload.withUnsafeBytes { bytes in
            if let destination {
                return destination.withRaw { sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, $1) }
            }
            return Glibc.send(descriptor, bytes.baseAddress, bytes.count, 0)
        }
        guard sent == payload.count else { throw NetemError("send: \(NetworkNamespace.lastError())") }
    }

    /// The next datagram or bytes read within `patience`, or `nil`.
    func receive(within patience: Duration) throws -> [UInt8]? {
        guard readable(within: patience) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2_048)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw NetemError("recv: \(count == 0 ? "closed" : NetworkNamespace.lastError())") }
        return Array(buffer[0..<count])
    }

    /// A TCP connection from `namespace` (bound to `address`) to `server`,
    /// a listening socket, and the server's end of it.
    static func connect(from namespace: String, address: String, to server: TestSocket, within patience: Duration)
        throws -> (client: TestSocket, server: TestSocket)
    {
        let client = try TestSocket(namespace: namespace, type: SOCK_STREAM, address: address)
        var timeout = timeval(tv_sec: Int(patience / .seconds(1)), tv_usec: 0)
        setsockopt(client.descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        client.configureConnection()
        guard server.local.withRaw({ Glibc.connect(client.descriptor, $0, $1) }) == 0 else {
            throw NetemError("connect to \(server.local.address): \(NetworkNamespace.lastError())")
        }
        guard server.readable(within: patience) else { throw NetemError("no connection to accept") }
        let accepted = accept(server.descriptor, nil, nil)
        guard accepted >= 0 else { throw NetemError("accept: \(NetworkNamespace.lastError())") }
        let serverEnd = TestSocket(descriptor: accepted)
        serverEnd.configureConnection()
        return (client, serverEnd)
    }

    /// Sends small writes at once, and makes closing reset the connection
    /// rather than leave it retransmitting (which would keep its namespace alive).
    private func configureConnection() {
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var reset = linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
    }

    /// Makes this TCP socket listen.
    func listen() throws {
        guard Glibc.listen(descriptor, 4) == 0 else { throw NetemError("listen: \(NetworkNamespace.lastError())") }
    }
}
