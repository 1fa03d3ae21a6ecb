import Testing

@testable import KvorumCore

struct MetadataTests {
    /// The encoded form is `DOT|PAST` with the past in byte-wise actor order.
    @Test func encodeFormat() {
        let version = dotted("node01.1", 2, past: ["node03.2": 1, "node01.1": 1])
        #expect(Metadata.encode(version) == "node01.1:2|node01.1:1,node03.2:1")
        #expect(version.metadata == "node01.1:2|node01.1:1,node03.2:1")
        #expect(dotted("node01.1", 1).metadata == "node01.1:1|")
        #expect(merged(["b": 2, "a": 1], value: "m").metadata == "|a:1,b:2")
        #expect(Metadata.encode(VersionVector(["b": 2, "a": 1])) == "a:1,b:2")
    }

    /// Parsing a version's metadata gives its history.
    @Test func roundTripGivesHistory() throws {
        let versions = [
            dotted("node01.1", 2, past: ["node03.2": 1, "node01.1": 1]),
            dotted("node05.3", 7),
            dotted("a", 3, past: ["a": 1]),
            merged(["x": 4, "y": 9], value: "m"),
        ]
        for version in versions {
            #expect(try Metadata.context(from: version.metadata) == version.history)
        }
    }

    /// Bare contexts, with or without a leading `|`, and empty text parse as contexts.
    @Test func bareContexts() throws {
        #expect(try Metadata.context(from: "a:1,b:2") == VersionVector(["a": 1, "b": 2]))
        #expect(try Metadata.context(from: "b:2,a:1") == VersionVector(["a": 1, "b": 2]))
        #expect(try Metadata.context(from: "|a:1") == VersionVector(["a": 1]))
        #expect(try Metadata.context(from: "a:3|") == VersionVector(dots: [Dot(actor: "a", counter: 3)]))
        #expect(try Metadata.context(from: "a:3|a:2") == VersionVector(["a": 3]))
        #expect(
            try Metadata.context(from: "|a:1,a#3,b#2")
                == VersionVector(["a": 1], dots: [Dot(actor: "a", counter: 3), Dot(actor: "b", counter: 2)]))
        #expect(try Metadata.context(from: "") == VersionVector())
        #expect(try Metadata.context(from: "|") == VersionVector())
    }

    /// Actor names holding `%`, `:`, `,` or `|` are escaped and come back intact.
    @Test func escapingRoundTrips() throws {
        let odd = "we%ird:ac,to|r"
        let version = dotted(odd, 2, past: [odd: 1, "plain": 1, "ключ|1": 5])
        let text = version.metadata
        #expect(text.hasPrefix("we%25ird%3Aac%2Cto%7Cr:2|"))
        #expect(text.split(separator: "|").count == 2)
        #expect(try Metadata.context(from: text) == version.history)
    }

    /// Isolated events of a version's past are written `actor#counter` after
    /// the ranges, and an actor name holding `#` is escaped.
    @Test func isolatedDotsInThePast() throws {
        let past = VersionVector(["b": 2], dots: [Dot(actor: "a", counter: 3), Dot(actor: "x#y", counter: 9)])
        let version = Version(dot: Dot(actor: "b", counter: 5), past: past, value: "v")
        #expect(version.metadata == "b:5|b:2,a#3,x%23y#9")
        #expect(try Metadata.context(from: version.metadata) == past.adding(Dot(actor: "b", counter: 5)))
    }

    /// Malformed metadata is rejected with a `ParseError`.
    @Test(arguments: ["x", "a:0", "a:-1", "a:1,a:2", "a|b|c", "%zz:1", ":3", "a:", "a:1|b", "%2:1", "a:1x"])
    func malformedInputThrows(text: String) {
        #expect(throws: Metadata.ParseError.self) { try Metadata.context(from: text) }
    }
}
