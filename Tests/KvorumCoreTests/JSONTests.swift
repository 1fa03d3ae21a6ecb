import Foundation
import Testing

@testable import KvorumCore

struct JSONTests {
    static func decode(_ text: String) throws -> JSON {
        try JSONDecoder().decode(JSON.self, from: Data(text.utf8))
    }

    /// Nested values decode with integers, doubles, booleans and null kept apart.
    @Test func decodeNested() throws {
        let text = #"""
            {"key": "k", "quorum": 2, "ratio": 1.5, "ok": true, "no": false, "none": null,
             "list": [0, 1, -7, 2.25, true, null, "s", [], {}], "deep": {"a": {"b": [false]}}}
            """#
        let expected: JSON = [
            "key": "k", "quorum": 2, "ratio": .double(1.5), "ok": true, "no": false, "none": nil,
            "list": [0, 1, -7, .double(2.25), true, nil, "s", [], [:]],
            "deep": ["a": ["b": [false]]],
        ]
        #expect(try Self.decode(text) == expected)
    }

    /// Scalars decode to the matching case: `0`/`1` are integers, not booleans.
    @Test(arguments: [
        ("0", JSON.int(0)),
        ("1", .int(1)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        ("-12", .int(-12)),
        ("9223372036854775807", .int(.max)),
        ("0.5", .double(0.5)),
        ("-1.25e-3", .double(-0.00125)),
        (#""2""#, .string("2")),
        (#""true""#, .string("true")),
    ])
    func decodeScalar(text: String, expected: JSON) throws {
        #expect(try Self.decode(text) == expected)
    }

    /// Rendering is compact with object keys sorted at every level.
    @Test func renderedSortsKeys() {
        let value: JSON = [
            "type": "PUT", "body": ["value": "v", "key": "k", "quorum": 2, "metadata": nil], "a": [true, .double(1.5)],
        ]
        #expect(
            value.rendered
                == #"{"a":[true,1.5],"body":{"key":"k","metadata":null,"quorum":2,"value":"v"},"type":"PUT"}"#)
        #expect(JSON.object([:]).rendered == "{}")
        #expect(JSON.array([]).rendered == "[]")
    }

    /// Strings escape quotes, backslashes and every control character; other text stays literal.
    @Test func renderedEscapes() {
        let value = JSON.string("q\"b\\n\nr\rt\t\u{0}\u{1}\u{1F}\u{7F}ключ/🙂")
        #expect(value.rendered == #""q\"b\\n\nr\rt\t\u0000\u0001\u001f\#u{7F}ключ/🙂""#)
        #expect(JSON.object(["\n": 1]).rendered == #"{"\n":1}"#)
        // Text with nothing to escape comes out as it went in (the fast path).
        #expect(JSON.string("plain ключ/🙂 \u{7F}").rendered == "\"plain ключ/🙂 \u{7F}\"")
        #expect(JSON.array(["", "a\"", "b"]).rendered == #"["","a\"","b"]"#)
    }

    /// Non-finite doubles render as null, finite ones as decimals.
    @Test func renderedDoubles() {
        #expect(JSON.double(.nan).rendered == "null")
        #expect(JSON.double(.infinity).rendered == "null")
        #expect(JSON.double(-2.5).rendered == "-2.5")
        #expect(JSON.int(.min).rendered == "-9223372036854775808")
    }

    /// Rendered text decodes back to the same value.
    @Test func renderedRoundTrips() throws {
        let value: JSON = [
            "s": .string("line\nbreak \"quoted\" \u{2}"), "n": [1, -2, .double(0.125)], "o": ["x": nil, "y": false],
        ]
        #expect(try Self.decode(value.rendered) == value)
        #expect(try JSONDecoder().decode(JSON.self, from: try JSONEncoder().encode(value)) == value)
    }

    /// Field access, string access and type names.
    @Test func accessors() {
        let value: JSON = ["key": "k", "quorum": 2]
        #expect(value["key"]?.stringValue == "k")
        #expect(value["quorum"]?.stringValue == nil)
        #expect(value["missing"] == nil)
        #expect(JSON.string("x")["key"] == nil)
        #expect(
            [JSON.null, true, 1, .double(1.5), "s", [], [:]].map(\.typeName)
                == ["null", "boolean", "integer", "number", "string", "array", "object"])
    }
}
