import Testing

@testable import KvorumCore

/// `Metadata.context(from:)` reads UTF-8 bytes. These tests hold it to the
/// definition it replaced, which split the text into `Character`s, and show
/// where the two differ on purpose.
struct MetadataParseReferenceTests {
    /// Random texts over the metadata alphabet (separators, escapes, digits,
    /// signs, letters, multi-byte letters) give the same context, or the same
    /// error, as the definition.
    @Test func randomTextsParseAsTheDefinitionParses() {
        let pieces = [
            "a", "b", "n1.2", "ключ", "é", ":", ":", "#", ",", ",", "|", "%", "%3A", "%7C", "%2", "%zz", "%C3%A9",
            "%FF", "0", "1", "7", "12", "+", "-", "18446744073709551615", "18446744073709551616",
        ]
        var random = SplitMix64(seed: 42)
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            if Self.outcome(text) != Self.referenceOutcome(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    }

    /// Metadata the codec writes parses back, whatever the actor names hold.
    @Test func writtenMetadataParsesAsTheDefinitionParses() throws {
        var random = SplitMix64(seed: 7)
        let names = ["a", "node01.1", "we%ird:ac,to|r", "x#y", "ключ|1", "😀"]
        for _ in 0..<2_000 {
            var counters: [String: UInt64] = [:]
            for name in names where random.next() % 2 == 0 { counters[name] = 1 + random.next() % 9 }
            let dots = names.filter { _ in random.next() % 4 == 0 }.map {
                Dot(actor: $0, counter: 20 + random.next() % 9)
            }
            let version = Version(
                dot: Dot(actor: names[Int(random.next() % UInt64(names.count))], counter: 40),
                past: VersionVector(counters, dots: dots), value: "v")
            #expect(Self.outcome(version.metadata) == Self.referenceOutcome(version.metadata))
            #expect(try Metadata.context(from: version.metadata) == version.history)
        }
    }

    /// An actor name starting with a combining mark: a `Character` joins the
    /// mark to the separator before it, so the definition did not split
    /// there and refused or misread the metadata the codec itself wrote.
    @Test func aCombiningMarkAfterASeparatorStillSeparates() throws {
        let accent = "\u{301}x"
        let version = Version(
            dot: Dot(actor: "a", counter: 2), past: VersionVector(["a": 1, accent: 3]), value: "v")
        #expect(version.metadata == "a:2|a:1,\u{301}x:3")
        #expect(try Metadata.context(from: version.metadata) == version.history)
        #expect(Self.referenceOutcome(version.metadata) != Self.outcome(version.metadata))
    }

    private static func outcome(_ text: String) -> Result<VersionVector, Metadata.ParseError> {
        Result { () throws(Metadata.ParseError) in try Metadata.context(from: text) }
    }

    private static func referenceOutcome(_ text: String) -> Result<VersionVector, Metadata.ParseError> {
        Result { () throws(Metadata.ParseError) in try Reference.context(from: text) }
    }

    /// The parser as it was, on `String` and `Character`.
    private enum Reference {
        typealias ParseError = Metadata.ParseError

        static func context(from text: String) throws(ParseError) -> VersionVector {
            let parts = text.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw ParseError(description: "metadata has more than one '|'") }
            var context = try vector(from: parts.last.map(String.init) ?? "")
            if parts.count == 2, !parts[0].isEmpty {
                let (actor, counter) = try entry(from: String(parts[0]))
                context.add(Dot(actor: actor, counter: counter))
            }
            return context
        }

        static func vector(from text: String) throws(ParseError) -> VersionVector {
            var counters: [String: UInt64] = [:]
            var dots: [Dot] = []
            for item in text.split(separator: ",", omittingEmptySubsequences: true) {
                if item.contains("#") && !item.contains(":") {
                    let (actor, counter) = try entry(from: String(item), separator: "#")
                    dots.append(Dot(actor: actor, counter: counter))
                    continue
                }
                let (actor, counter) = try entry(from: String(item))
                guard counters[actor] == nil else { throw ParseError(description: "actor '\(actor)' appears twice") }
                counters[actor] = counter
            }
            return VersionVector(counters, dots: dots)
        }

        static func entry(from text: String, separator: Character = ":") throws(ParseError) -> (String, UInt64) {
            guard let colon = text.lastIndex(of: separator) else {
                throw ParseError(description: "metadata entry '\(text)' has no '\(separator)'")
            }
            guard let counter = UInt64(text[text.index(after: colon)...]), counter > 0 else {
                throw ParseError(description: "metadata entry '\(text)' has no positive counter")
            }
            let actor = try unescape(String(text[..<colon]))
            guard !actor.isEmpty else { throw ParseError(description: "metadata entry '\(text)' has no actor") }
            return (actor, counter)
        }

        /// Percent-escapes were decoded on the string's UTF-8 bytes then
        /// as now, so the reference shares the decoder.
        static func unescape(_ s: String) throws(ParseError) -> String {
            try Metadata.unescape(Array(s.utf8)[...])
        }
    }
}
