import Foundation
import SwiftASN1
import X509

/// A name a node is reached by, as it goes into a node certificate's
/// subjectAltName: a DNS name, or an IPv4 or IPv6 address (stored as its 4
/// or 16 bytes, which is what a TLS client compares an address against).
public enum CertificateHost: Hashable, Sendable, CustomStringConvertible {
    case dnsName(String)
    case ipAddress([UInt8])

    /// Reads `text` as an IP address if it is one, else as a DNS name.
    /// Throws for an empty name or one with characters DNS does not allow.
    public init(parsing text: String) throws {
        if let address = Self.addressBytes(text) {
            self = .ipAddress(address)
            return
        }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.*")
        guard !text.isEmpty, text.unicodeScalars.allSatisfy(allowed.contains) else {
            throw CertificateError.invalidHost(text)
        }
        self = .dnsName(text)
    }

    /// The host as a subjectAltName entry.
    var generalName: GeneralName {
        switch self {
        case .dnsName(let name): .dnsName(name)
        case .ipAddress(let bytes): .ipAddress(ASN1OctetString(contentBytes: bytes[...]))
        }
    }

    /// The host a subjectAltName entry names, or nil for kinds of names
    /// Kvorum does not write (e-mail addresses, URIs, …).
    init?(_ name: GeneralName) {
        switch name {
        case .dnsName(let name): self = .dnsName(name)
        case .ipAddress(let octets): self = .ipAddress(Array(octets.bytes))
        default: return nil
        }
    }

    /// `DNS:name` or `IP:address`, as openssl prints them.
    public var description: String {
        switch self {
        case .dnsName(let name): return "DNS:\(name)"
        case .ipAddress(let bytes):
            let family = bytes.count == 4 ? AF_INET : AF_INET6
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let printed = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
            guard printed != nil else { return "IP:?" }
            return "IP:" + String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The 4 bytes of an IPv4 or the 16 of an IPv6 address, or nil if
    /// `text` is neither.
    private static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        return nil
    }
}
