import Testing

@testable import KvorumCore

/// `JSON.render(into:)` writes bytes; it must spell exactly what the
/// definition below, the renderer it replaced (on `String`, a Unicode
/// scalar at a time), spelled for every value: the simulator's traces and
/// every answer's body depend on it.
struct JSONRenderReferenceTests {
    /// The earlier renderer, kept as the definition.
    static func reference(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return referenceString(s)
        case .array(let items): return "[" + items.map(reference).joined(separator: ",") + "]"
        case .object(let fields):
            let members = fields.keys.sorted().map { referenceString($0) + ":" + reference(fields[$0]!) }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    private static func referenceString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Scalars that exercise every branch: controls, the two escaped
    /// characters, DEL, two-, three- and four-byte UTF-8, a combining mark.
    private static let scalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{8}", "\u{C}", "\u{1B}", "\u{1F}",
        "\u{7F}", "é", "\u{301}", "ж", "€", "\u{FFFD}", "🙂", "\u{10FFFF}",
    ]

    private static func randomString(_ random: inout SplitMix64) -> String {
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &random) { text.append(scalars.randomElement(using: &random)!) }
        return String(text)
    }

    private static func randomValue(_ random: inout SplitMix64, depth: Int) -> JSON {
        switch Int.random(in: 0..<(depth > 0 ? 8 : 6), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2:
            return .int(
                [Int64.min, Int64.max, 0, -1].randomElement(using: &random)! &+ Int64.random(in: -3...3, using: &random)
            )
        case 3:
            return .double(
                [0.5, -1e-300, 1e300, .infinity, -.infinity, .nan, 12345.678, -0.0].randomElement(using: &random)!)
        case 4, 5: return .string(randomString(&random))
        case 6:
            return .array(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth - 1) })
        default:
            var fields: [String: JSON] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                fields[randomString(&random)] = randomValue(&random, depth: depth - 1)
            }
            return .object(fields)
        }
    }

    @Test func randomValuesRenderAsTheDefinitionDoes() {
        var random = SplitMix64(seed: 15)
        for _ in 0..<5_000 {
            let value = Self.randomValue(&random, depth: 3)
            let expected = Self.reference(value)
            #expect(value.rendered == expected)
            #expect(value.renderedBytes == Array(expected.utf8))
        }
    }

    /// Every byte below 0x80 alone in a string, as both spell it.
    @Test func everyASCIIScalar() {
        for value in 0..<0x80 {
            let text = String(Unicode.Scalar(UInt8(value)))
            #expect(JSON.string(text).rendered == Self.reference(.string(text)), "scalar \(value)")
        }
    }

    /// Rendering appends: what `out` held stays in front.
    @Test func renderAppends() {
        var out = Array("x=".utf8)
        JSON.object(["b": 1, "a": "\u{1}"]).render(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"x={"a":"\u0001","b":1}"#)
    }
}
