import FuzzSupport
import KvorumCore

/// A record as SQLiteStorage reads it back from its `records` table: the
/// binary sibling set of `WireCodec.encode(_: SiblingSet)`. A damaged row
/// must give a `DecodeError`, never a trap.
///
/// A set that decodes is canonical and survives re-encoding: encoding it
/// and decoding that gives the same set, encoding again the same bytes, and
/// merging it with itself changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func storedSiblingsTarget(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let siblings = try? WireCodec.decodeSiblings(Fuzz.bytes(start, count)) else { return 0 }
    let encoded = WireCodec.encode(siblings)
    let again = try? WireCodec.decodeSiblings(encoded)
    Fuzz.check(again == siblings, "decode(encode(s)) != s for \(siblings)")
    Fuzz.check(again.map(WireCodec.encode) == encoded, "encoding is not stable for \(siblings)")
    Fuzz.check(SiblingSet(siblings.versions) == siblings, "a decoded set is not canonical: \(siblings)")
    Fuzz.check(siblings.merged(with: siblings, policy: .keepAll) == siblings, "merging with itself changed \(siblings)")
    return 0
}
