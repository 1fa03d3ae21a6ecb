import Crypto

/// Bearer tokens: long random values a node knows only by their SHA-256.
///
/// A token is `kvt_` followed by the base64url text (no padding) of 32
/// random bytes from the system's secure generator: 256 bits, so guessing
/// one is hopeless and a plain hash suffices (no salt or slow hash is
/// needed for values no one chose). The config file lists the hash in hex.
public enum AccessToken {
    /// The prefix that marks a Kvorum token (and makes one easy to find in a leak).
    public static let prefix = "kvt_"

    /// A new random token.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + base64URL(bytes)
    }

    /// The SHA-256 of a token's UTF-8 bytes.
    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// `hash(token)` as lowercase hex, as the config file takes it.
    public static func hexHash(_ token: String) -> String {
        hash(token).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }

    /// Whether two hashes are equal, in time that depends only on their
    /// length, so timing reveals nothing about how much of a guess matched.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var text = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for byte in chunk { value = value << 8 | Int(byte) }
            value <<= 8 * (3 - chunk.count)
            for position in 0...chunk.count { text.append(alphabet[(value >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return text
    }
}
