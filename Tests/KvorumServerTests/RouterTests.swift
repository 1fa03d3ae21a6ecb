import Foundation
import KvorumContextToken
import KvorumCore
import Testing

@testable import KvorumServer

/// How the HTTP API renders reads: the form `Accept` chooses, raw values,
/// multipart siblings, JSON. (Request targets: KvorumRoutingTests.)
struct RouterTests {
    /// JSON only when `Accept` asks for it; `*/*`, none or anything else is
    /// the raw form, and `q=0` refuses JSON.
    @Test func acceptChoosesTheForm() {
        #expect(ReadFormat(accept: nil) == .raw)
        #expect(ReadFormat(accept: "*/*") == .raw)
        #expect(ReadFormat(accept: "image/png, text/*") == .raw)
        #expect(ReadFormat(accept: "application/json") == .json)
        #expect(ReadFormat(accept: "text/html, Application/JSON;q=0.5") == .json)
        #expect(ReadFormat(accept: "application/json;q=0, */*") == .raw)
        #expect(ReadFormat(accept: "text/plain,\t application/json\t ; q=0.9 ") == .json)
        #expect(ReadFormat(accept: "application/json ;\tq=0.0") == .raw)
        #expect(ReadFormat(accept: "application/json;;") == .json)
        #expect(ReadFormat(accept: " , ;, application/jsonx") == .raw)
        #expect(ReadFormat(accept: "") == .raw)
    }

    /// The bytewise reading of `Accept` against the earlier one on
    /// `String`s (split into `Character`s, trimmed, Unicode-lowercased),
    /// kept here as the definition, over random headers built from the
    /// pieces that matter. The two differ only where a combining mark
    /// follows a separator or a blank, which these leave out.
    @Test func acceptAgreesWithTheStringDefinition() {
        func reference(_ accept: String) -> ReadFormat {
            func trimmed(_ text: Substring) -> String {
                let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
                guard let first = text.firstIndex(where: { !blank($0) }),
                    let last = text.lastIndex(where: { !blank($0) })
                else { return "" }
                return text[first...last].lowercased()
            }
            let json = accept.split(separator: ",").contains { range in
                let parameters = range.split(separator: ";").map(trimmed)
                return parameters.first == "application/json"
                    && !parameters.dropFirst().contains { $0 == "q=0" || $0 == "q=0.0" }
            }
            return json ? .json : .raw
        }
        let pieces = [
            "application/json", "APPLICATION/Json", "application/jsonx", "application/jso", "text/html", "*/*", "q=0",
            "Q=0", "q=0.0", "q=0.5", "q=1", "q=00", ",", ",", ";", ";", " ", "\t", "é", "\u{212A}", "ǅ", "",
        ]
        var random = SplitMix64(seed: 9110)
        for _ in 0..<20_000 {
            let accept = (0..<Int.random(in: 0...7, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            #expect(ReadFormat(accept: accept) == reference(accept), "\(accept.debugDescription)")
        }
    }

    static func read(_ values: [Value], tombstones: Int = 0) -> ReadResult {
        ReadResult(
            values: values, metadata: values.indices.map { "n1.1:\($0 + 1)|" }, tombstones: tombstones,
            context: VersionVector())
    }

    /// One value: its bytes and content type (none: octet-stream), and the
    /// context; tombstones are counted in a header.
    @Test func oneValueIsServedRaw() {
        let bytes: [UInt8] = [0, 0xFF, 0x0A]
        let typed = ReadRendering(key: "k", read: Self.read([Value(bytes: bytes, contentType: "image/png")]))
            .answer(.raw)
        #expect(typed.status == .ok && typed.body == bytes && typed.contentType == "image/png")
        #expect(typed.headers.contains { $0.0 == "X-Kvorum-Context" })
        #expect(!typed.headers.contains { $0.0 == "X-Kvorum-Tombstones" })
        let untyped = ReadRendering(key: "k", read: Self.read([Value(bytes: bytes)], tombstones: 2)).answer(.raw)
        #expect(untyped.contentType == "application/octet-stream")
        #expect(untyped.headers.contains { $0 == ("X-Kvorum-Tombstones", "2") })
    }

    /// Several values: 300 with one part each, with its content type and
    /// metadata token, under a boundary found in no part.
    @Test func siblingsAreMultipart() throws {
        let first = Value(bytes: Array("a\r\n--kvorum-0\r\n".utf8), contentType: "text/plain")
        let second = Value(bytes: [1, 2, 3])
        let answer = ReadRendering(key: "k", read: Self.read([first, second])).answer(.raw)
        #expect(answer.status == .multipleChoices)
        #expect(answer.contentType == "multipart/mixed; boundary=kvorum-1")
        let expected =
            "--kvorum-1\r\nContent-Type: text/plain\r\nX-Kvorum-Metadata: \(ContextToken.encode("n1.1:1|"))\r\n\r\n"
            + "a\r\n--kvorum-0\r\n\r\n"
            + "--kvorum-1\r\nContent-Type: application/octet-stream\r\n"
            + "X-Kvorum-Metadata: \(ContextToken.encode("n1.1:2|"))\r\n\r\n"
        #expect(answer.body == Array(expected.utf8) + [1, 2, 3] + Array("\r\n--kvorum-1--\r\n".utf8))
    }

    /// The JSON form: text (null when not UTF-8), base64, content types,
    /// tombstones; 404 when no value is live, in either form.
    @Test func jsonFormAndAbsentKeys() throws {
        let read = Self.read([Value(text: "hi"), Value(bytes: [0xFF], contentType: "x/y")], tombstones: 1)
        let answer = ReadRendering(key: "k", read: read).answer(.json)
        #expect(answer.status == .ok)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
        #expect((body["values"] as? [Any])?.first as? String == "hi")
        #expect((body["values"] as? [Any])?.last is NSNull)
        #expect(body["base64"] as? [String] == ["aGk=", "/w=="])
        #expect((body["contentTypes"] as? [Any])?.first is NSNull)
        #expect((body["contentTypes"] as? [Any])?.last as? String == "x/y")
        #expect(body["tombstones"] as? Int == 1)
        for format in [ReadFormat.raw, .json] {
            let absent = ReadRendering(key: "k", read: Self.read([], tombstones: 1)).answer(format)
            #expect(absent.status == .notFound && absent.contentType == "application/json")
            #expect(absent.headers.contains { $0.0 == "X-Kvorum-Context" })
        }
    }

    /// The JSON read's body, written field by field, spells what the
    /// `JSON` object it replaced (kept here as the definition) renders, for
    /// random reads: text and binary values, content types or none, keys
    /// that need escapes.
    @Test func jsonBodyAgreesWithTheJSONDefinition() {
        func reference(_ rendering: ReadRendering, _ read: ReadResult) -> [UInt8] {
            let json: JSON = [
                "key": .string(rendering.key),
                "values": .array(read.values.map { $0.exactText.map(JSON.string) ?? .null }),
                "base64": .array(read.values.map { .string(Data($0.bytes).base64EncodedString()) }),
                "contentTypes": .array(read.values.map { $0.contentType.map(JSON.string) ?? .null }),
                "metadata": .array(read.metadata.map { .string(ContextToken.encode($0)) }),
                "context": .string(rendering.context),
                "tombstones": .int(Int64(read.tombstones)),
            ]
            return json.renderedBytes
        }
        var random = SplitMix64(seed: 8259)
        let texts = ["", "hi", "ключ", "a\"b\\c\n", "\u{1}", "🙂 x"]
        for _ in 0..<500 {
            let values = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                Bool.random(using: &random)
                    ? Value(
                        bytes: (0..<Int.random(in: 0...9, using: &random)).map { _ in
                            UInt8.random(in: 0...255, using: &random)
                        })
                    : Value(text: texts.randomElement(using: &random)!)
            }.map { value in
                Bool.random(using: &random)
                    ? value : Value(bytes: value.bytes, contentType: texts.randomElement(using: &random)!)
            }
            let read = ReadResult(
                values: values, metadata: values.indices.map { "n\($0).1:\($0 + 1)|" },
                tombstones: Int.random(in: 0...2, using: &random), context: VersionVector())
            let rendering = ReadRendering(key: texts.randomElement(using: &random)! + "k", read: read)
            #expect(rendering.jsonBody == reference(rendering, read))
        }
    }

    /// `JSONObjectWriter` spells what `JSON` renders for the same object.
    @Test func objectWriterSpellsWhatJSONRenders() {
        #expect(JSONObjectWriter().finished() == Array("{}".utf8))
        var random = SplitMix64(seed: 7159)
        let names = ["a", "b\"", "base64", "context", "contentTypes", "key", "ключ", "z\n"]
        for _ in 0..<500 {
            let chosen = names.filter { _ in Bool.random(using: &random) }.sorted()
            var fields: [String: JSON] = [:]
            var writer = JSONObjectWriter()
            for name in chosen {
                if Bool.random(using: &random) {
                    let items = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                        Int64.random(in: -9...9, using: &random)
                    }
                    fields[name] = .array(items.map(JSON.int))
                    writer.field(name, items) { .int($0) }
                } else {
                    let value = JSON.string(names.randomElement(using: &random)!)
                    fields[name] = value
                    writer.field(name, value)
                }
            }
            #expect(writer.finished(suffix: "\n") == JSON.object(fields).renderedBytes + [UInt8(ascii: "\n")])
        }
    }

    /// Every answer says the count; past the threshold a `Warning: 199`.
    @Test func siblingNotice() {
        let bounds = SiblingBounds(warning: 25, limit: 100)
        #expect(SiblingNotice(key: "k", count: 25, bounds: bounds).headers.map(\.0) == ["X-Kvorum-Siblings"])
        let past = SiblingNotice(key: "k", count: 26, bounds: bounds)
        #expect(past.warns)
        #expect(past.headers.last?.0 == "Warning")
        #expect(past.headers.last?.1 == #"199 kvorum "key k has 26 siblings; read it and write back with its context""#)
    }
}
