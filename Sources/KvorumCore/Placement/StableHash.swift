/// A hash that is the same in every process and on every machine.
///
/// FNV-1a 64 over the UTF-8 bytes, finished with MurmurHash3's 64-bit mixer
/// (fmix64) so that nearby inputs spread over the whole range. Swift's
/// `Hasher` is seeded per process and must never decide placement.
public enum StableHash {
    public static func hash(_ s: String) -> UInt64 {
        hash(bytes: s.utf8)
    }

    /// A key's hash: the hash of its bytes, as `hash(_: String)` of its text.
    public static func hash(_ key: Key) -> UInt64 {
        hash(bytes: key.utf8)
    }

    /// Native strings hash their contiguous bytes directly, which is
    /// several times faster than stepping the UTF-8 view; others step it.
    private static func hash(bytes: String.UTF8View) -> UInt64 {
        let contiguous = bytes.withContiguousStorageIfAvailable { mix(fnv1a($0)) }
        return contiguous ?? mix(fnv1a(bytes))
    }

    /// FNV-1a 64 over `bytes`.
    private static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var fnv = FNV1a()
        fnv.add(bytes)
        return fnv.value
    }

    /// FNV-1a 64 fed in pieces: the hash of everything added so far, as
    /// over one concatenation (a record's digest hashes its key's encoding,
    /// then its siblings', `TreePlace.digest`).
    struct FNV1a {
        private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func add(_ byte: UInt8) {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }

        mutating func add(_ bytes: some Sequence<UInt8>) {
            for byte in bytes { add(byte) }
        }
    }

    /// MurmurHash3's fmix64 finaliser.
    public static func mix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
