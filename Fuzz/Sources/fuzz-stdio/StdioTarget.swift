import FuzzSupport
import KvorumCore
import KvorumStdio

/// One line of the stdio protocol (docs/stdio-protocol.md), read as every
/// kind of line it can be: an event (what `kvorum node --stdio` reads), an
/// effects line and a handshake (what the bridge reads). A bad line must
/// give a `LineError`, never a trap.
///
/// What decodes survives re-encoding: an event or a list of effects encoded
/// and decoded again is the same, and its encoding is stable.
@_cdecl("LLVMFuzzerTestOneInput")
public func stdioTarget(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let line = String(decoding: Fuzz.bytes(start, count), as: UTF8.self)
    if let event = try? StdioProtocol.decodeEvent(line) {
        let encoded = StdioProtocol.encode(event)
        let again = try? StdioProtocol.decodeEvent(encoded)
        Fuzz.check(again == event, "decode(encode(e)) != e for \(event)")
        Fuzz.check(again.map(StdioProtocol.encode) == encoded, "event encoding is not stable: \(encoded)")
    }
    if let effects = try? StdioProtocol.decodeEffects(line) {
        let encoded = StdioProtocol.encode(effects)
        let again = try? StdioProtocol.decodeEffects(encoded)
        Fuzz.check(again == effects, "decode(encode(e)) != e for \(effects)")
        Fuzz.check(again.map(StdioProtocol.encode) == encoded, "effects encoding is not stable: \(encoded)")
    }
    if let handshake = try? StdioProtocol.decodeHandshake(line) {
        let again = try? StdioProtocol.decodeHandshake(
            StdioProtocol.handshake(name: handshake.name, address: handshake.address))
        Fuzz.check(again.map { [$0.name, $0.address] } == [handshake.name, handshake.address], "handshake: \(line)")
    }
    return 0
}
