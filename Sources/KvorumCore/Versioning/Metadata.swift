/// The metadata string codec.
///
/// Format: `DOT|PAST`, where `DOT` is `actor:counter` (empty for a merged
/// version) and `PAST` is the causal context the version was written with:
/// comma-separated `actor:counter` ranges in byte-wise actor order, then
/// isolated events as `actor#counter`. Characters `%`, `:`, `#`, `,`, `|`
/// inside actor names are percent-encoded.
/// Example: `node01.1:3|node01.1:1,node03.2:1,node02.1#4`.
///
/// A client may send either a version's metadata or a bare context (`PAST`
/// only, or the `|PAST` of a merged version); both parse to the causal context
/// the new write supersedes: the past plus the version's own event.
public enum Metadata {
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ version: Version) -> String {
        String(decoding: bytes(of: version), as: UTF8.self)
    }

    public static func encode(_ vector: VersionVector) -> String {
        var out: [UInt8] = []
        append(vector, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `encode(version)`, written into one buffer rather than
    /// joined from strings: sorting siblings compares these.
    static func bytes(of version: Version) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        if let dot = version.dot { append(dot.actor, UInt8(ascii: ":"), dot.counter, to: &out) }
        out.append(UInt8(ascii: "|"))
        append(version.past, to: &out)
        return out
    }

    private static func append(_ vector: VersionVector, to out: inout [UInt8]) {
        var first = true
        for range in vector.ranges {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            append(range.actor, UInt8(ascii: ":"), range.counter, to: &out)
        }
        for dot in vector.dots {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            append(dot.actor, UInt8(ascii: "#"), dot.counter, to: &out)
        }
    }

    /// One `actor SEPARATOR counter` entry, the actor percent-encoded and
    /// the counter in decimal.
    private static func append(_ actor: String, _ separator: UInt8, _ counter: UInt64, to out: inout [UInt8]) {
        var actor = actor
        actor.withUTF8 { bytes in
            // Names rarely hold a reserved byte: then they go in at once.
            guard bytes.contains(where: isReserved) else { return out.append(contentsOf: bytes) }
            for b in bytes {
                if isReserved(b) {
                    out.append(UInt8(ascii: "%"))
                    out.append(hexDigit(b >> 4))
                    out.append(hexDigit(b & 0xF))
                } else {
                    out.append(b)
                }
            }
        }
        out.append(separator)
        var divisor: UInt64 = 1
        while counter / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(counter / divisor % 10))
            divisor /= 10
        }
    }

    /// Parses metadata or a bare context into the causal context it stands for.
    ///
    /// The text is read as UTF-8 bytes: every `|`, `,`, `:` and `#` byte
    /// is a separator (actor names carry theirs percent-encoded), even one
    /// a combining mark follows, which a `Character` would join to it.
    public static func context(from text: String) throws(ParseError) -> VersionVector {
        let bytes = Array(text.utf8)[...]
        var bar: Int?
        for index in bytes.indices where bytes[index] == UInt8(ascii: "|") {
            guard bar == nil else { throw ParseError(description: "metadata has more than one '|'") }
            bar = index
        }
        guard let bar else { return try vector(from: bytes) }
        var context = try vector(from: bytes[(bar + 1)...])
        if bar > bytes.startIndex {
            let (actor, counter) = try entry(from: bytes[..<bar], separator: UInt8(ascii: ":"))
            context.add(Dot(actor: actor, counter: counter))
        }
        return context
    }

    private static func vector(from text: ArraySlice<UInt8>) throws(ParseError) -> VersionVector {
        // Ranges are gathered in the order they come: the codec writes them
        // in canonical order, so a duplicate can only follow an entry out of
        // that order, and only then is a table of the actors seen built.
        var ranges: [VersionVector.Range] = []
        ranges.reserveCapacity(text.count(where: { $0 == UInt8(ascii: ",") }) + 1)
        var seen: Set<String>?
        var dots: [Dot] = []
        var itemStart = text.startIndex
        while itemStart < text.endIndex {
            let itemEnd = text[itemStart...].firstIndex(of: UInt8(ascii: ",")) ?? text.endIndex
            defer { itemStart = itemEnd + 1 }
            let item = text[itemStart..<itemEnd]
            if item.isEmpty { continue }
            if item.contains(UInt8(ascii: "#")) && !item.contains(UInt8(ascii: ":")) {
                let (actor, counter) = try entry(from: item, separator: UInt8(ascii: "#"))
                dots.append(Dot(actor: actor, counter: counter))
                continue
            }
            let (actor, counter) = try entry(from: item, separator: UInt8(ascii: ":"))
            if seen == nil, let last = ranges.last, !byteOrder(last.actor, actor) {
                seen = Set(ranges.map(\.actor))
            }
            if seen != nil {
                guard seen!.insert(actor).inserted else {
                    throw ParseError(description: "actor '\(actor)' appears twice")
                }
            }
            ranges.append(VersionVector.Range(actor: actor, counter: counter))
        }
        return VersionVector(ranges: ranges, dots: dots)
    }

    private static func entry(
        from text: ArraySlice<UInt8>, separator: UInt8
    ) throws(ParseError) -> (String, UInt64) {
        guard let colon = text.lastIndex(of: separator) else {
            throw ParseError(
                description:
                    "metadata entry '\(String(decoding: text, as: UTF8.self))' has no '\(Unicode.Scalar(separator))'")
        }
        guard let counter = decimal(text[(colon + 1)...]), counter > 0 else {
            throw ParseError(
                description: "metadata entry '\(String(decoding: text, as: UTF8.self))' has no positive counter")
        }
        let actor = try unescape(text[..<colon])
        guard !actor.isEmpty else {
            throw ParseError(description: "metadata entry '\(String(decoding: text, as: UTF8.self))' has no actor")
        }
        return (actor, counter)
    }

    /// A positive counter in decimal, as `UInt64(String)` reads it: an
    /// optional `+`, then digits; nil for anything else or more than 64
    /// bits. (`UInt64` reads `-0` as zero, which no counter may be either.)
    private static func decimal(_ text: ArraySlice<UInt8>) -> UInt64? {
        var digits = text
        if digits.first == UInt8(ascii: "+") { digits.removeFirst() }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            value = sum
        }
        return value
    }

    /// Whether a byte of an actor name must be percent-encoded. A switch
    /// rather than a set lookup: every metadata string checks every byte.
    private static func isReserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "|"): true
        default: false
        }
    }

    /// The upper-case hexadecimal digit of a value below 16.
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    /// An actor name's bytes with its percent-escapes decoded. The bytes
    /// come from a `String` cut at ASCII separators, so without escapes
    /// they are valid UTF-8 already; decoded escapes are checked.
    static func unescape(_ bytes: ArraySlice<UInt8>) throws(ParseError) -> String {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        var it = bytes
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else {
                out.append(b)
                continue
            }
            guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else {
                throw ParseError(description: "bad percent-escape in metadata")
            }
            out.append(v)
            it = it.dropFirst(2)
        }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw ParseError(description: "metadata actor is not UTF-8")
        }
        return decoded
    }
}
