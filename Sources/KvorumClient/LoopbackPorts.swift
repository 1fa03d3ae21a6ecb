#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Free TCP ports on 127.0.0.1, for processes that will listen on them.
///
/// A port is free when a listening socket can take it now; nothing reserves
/// it afterwards, so a caller starts its listeners soon after asking.
public enum LoopbackPorts {
    /// Whether a listener could bind `port` on 127.0.0.1 right now. Sockets
    /// of an earlier listener lingering in TIME_WAIT do not count as a use.
    public static func isFree(_ port: Int) -> Bool {
        guard (1...65535).contains(port), let socket = openListener(port: port, reuseAddress: true) else {
            return false
        }
        close(socket.descriptor)
        return true
    }

    /// `count` distinct ports that the system picks as free, none of them
    /// in `excluded`.
    ///
    /// - Throws: `KvorumClientError` if the system runs out of sockets.
    public static func allocate(_ count: Int, excluding excluded: Set<Int> = []) throws(KvorumClientError) -> [Int] {
        var held: [Int32] = []
        defer { for descriptor in held { close(descriptor) } }
        var ports: [Int] = []
        // Every socket stays open until the end so the system never hands
        // out the same port twice; ports in `excluded` are skipped.
        while ports.count < count {
            guard held.count < count + excluded.count + 64, let socket = openListener(port: 0, reuseAddress: false)
            else {
                throw KvorumClientError(status: nil, message: "cannot find \(count) free ports on 127.0.0.1")
            }
            held.append(socket.descriptor)
            if !excluded.contains(socket.port) { ports.append(socket.port) }
        }
        return ports
    }

    /// A socket listening on 127.0.0.1:`port` (0: any port) and the port it
    /// got, or nil if the port is taken.
    static func openListener(port: Int, reuseAddress: Bool) -> (descriptor: Int32, port: Int)? {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return nil }
        if reuseAddress {
            var on: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            return nil
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
