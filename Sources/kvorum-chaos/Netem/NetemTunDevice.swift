#if canImport(Glibc)
    import Glibc
#endif

/// A TUN device owned by this process (`IFF_TUN | IFF_NO_PI`): every read
/// returns one IP packet the kernel routed into the device, every write hands
/// one IP packet to the kernel as if it had arrived on the device. The device
/// is not persistent: it and every route through it vanish when the process
/// exits.
final class NetemTunDevice: Sendable {
    /// `_IOW('T', 202, int)` from `<linux/if_tun.h>`.
    private static let setInterface: UInt = 0x4004_54CA
    /// `IFF_TUN`: IP packets, no Ethernet header.
    private static let tunMode: Int16 = 0x0001
    /// `IFF_NO_PI`: no 4-byte packet information before each packet.
    private static let noPacketInformation: Int16 = 0x1000
    /// `sizeof(struct ifreq)`: the name (16 bytes) and a 24-byte union whose
    /// first field is the flags.
    private static let requestSize = 40
    private static let nameSize = 16

    /// The device's name (the kernel's, if the requested one was a pattern
    /// such as `kvnetem%d`).
    let name: String
    private let descriptor: Int32

    /// Creates the device `name` in the current network namespace.
    init(name requested: String) throws {
        guard !requested.isEmpty, requested.utf8.count < Self.nameSize else {
            throw NetemError("a device name has 1 to \(Self.nameSize - 1) bytes, not \"\(requested)\"")
        }
        let descriptor = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw NetemError("open /dev/net/tun: \(Self.lastError())") }
        var request = [UInt8](repeating: 0, count: Self.requestSize)
        request.replaceSubrange(0..<requested.utf8.count, with: requested.utf8)
        request.withUnsafeMutableBytes {
            $0.storeBytes(of: Self.tunMode | Self.noPacketInformation, toByteOffset: Self.nameSize, as: Int16.self)
        }
        let status = request.withUnsafeMutableBytes { ioctl(descriptor, Self.setInterface, $0.baseAddress!) }
        guard status == 0 else {
            let error = Self.lastError()
            close(descriptor)
            throw NetemError("TUNSETIFF \(requested): \(error)")
        }
        self.descriptor = descriptor
        name = String(decoding: request[0..<Self.nameSize].prefix { $0 != 0 }, as: UTF8.self)
    }

    deinit { close(descriptor) }

    /// Blocks until a packet arrives and returns it.
    func read(into buffer: inout [UInt8]) throws -> ArraySlice<UInt8> {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return buffer[0..<count] }
            if errno != EINTR { throw NetemError("read from \(name): \(Self.lastError())") }
        }
    }

    /// Hands `packet` to the kernel; false if the kernel refused it.
    func write(_ packet: [UInt8]) -> Bool {
        packet.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) } == packet.count
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
