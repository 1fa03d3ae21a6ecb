import KvorumCore
import KvorumStdio
import KvorumTestKit
import Testing

/// The JSON-lines codec: every event and effect survives a round trip, and
/// bad lines are refused with a reason.
@Suite("stdio protocol")
struct StdioProtocolTests {
    static let message = PeerMessage(
        from: "node02", viewDigest: 0xFFFF_FFFF_FFFF_FFF1,
        body: .write(
            op: 7, key: "k\u{1}ключ",
            siblings: SiblingSet([
                Version(
                    dot: Dot(actor: "node02.3", counter: 4),
                    past: VersionVector(["node01.1": 2], dots: [Dot(actor: "node03.1", counter: 5)]), value: "v\n")
            ]), hintFor: "node04"))

    static let events: [Event] = [
        .start,
        .boot(joining: nil),
        .boot(joining: "127.0.0.1:9701"),
        .client(1, ClientRequest(type: "GET", body: ["key": "k", "quorum": 2])),
        .client(UInt64.max, ClientRequest(type: "LEAVE")),
        .client(3, ClientRequest(type: "PUT", body: ["key": "k", "value": "x", "quorum": 1, "metadata": .null])),
        .peer(from: "127.0.0.1:9702", message),
        .peer(from: "h:1", PeerMessage(from: "a", viewDigest: 0, body: .view([]))),
        .timer(.operation(4_294_967_297)),
    ]

    /// Each event kind encodes to one line and decodes back unchanged.
    @Test(arguments: events.indices)
    func eventRoundTrip(index: Int) throws {
        let event = StdioProtocol.TimedEvent(Self.events[index], time: 12.5)
        let line = StdioProtocol.encode(event)
        #expect(!line.contains("\n"))
        #expect(try StdioProtocol.decodeEvent(line) == event)
    }

    /// One effect of each kind.
    static let effects: [Effect] = [
        .send(to: "127.0.0.1:9703", Self.message),
        .reply(
            9,
            .versions(
                ReadResult(
                    values: [Value(text: "a")], metadata: ["n1.1:2|n1.1:1"], tombstones: 0,
                    context: VersionVector(["n1.1": 2])))),
        .reply(
            11,
            .versions(
                ReadResult(
                    values: [], metadata: [], tombstones: 2, context: VersionVector(["n1.1": 2, "n2.1": 1])))),
        .reply(12, .written(metadata: "n1.1:3|n1.1:2", siblings: 2)),
        .reply(10, .failed("read quorum not reached", .unavailable)),
        .setTimer(.probe, after: 1),
        .cancelTimer(.operation(1)),
    ]

    /// Effects lines round-trip, in order.
    @Test func effectsRoundTrip() throws {
        let effects = Self.effects
        let line = StdioProtocol.encode(effects)
        #expect(!line.contains("\n"))
        #expect(line.contains(#""type":"write""#))
        #expect(try StdioProtocol.decodeEffects(line) == effects)
        #expect(try StdioProtocol.decodeEffects(StdioProtocol.encode([])) == [])
    }

    static let badLines = [
        "", "{", "[]", "null", #"{"time":1}"#, #"{"event":"start"}"#, #"{"event":"start","time":"1"}"#,
        #"{"event":"client","time":1,"type":"GET"}"#, #"{"event":"client","time":1,"id":-1,"type":"GET"}"#,
        #"{"event":"peer","time":1,"message":{}}"#, #"{"event":"peer","time":1,"from":"a:1","message":{"x":1}}"#,
        #"{"event":"timer","time":1}"#, #"{"event":"dance","time":1}"#,
    ]

    /// Lines that are not valid events throw a `LineError` with a reason.
    @Test(arguments: badLines)
    func badEventLines(line: String) {
        #expect(throws: StdioProtocol.LineError.self) { try StdioProtocol.decodeEvent(line) }
    }

    /// An error line carries its reason back to the driver.
    @Test func errorLines() {
        let line = StdioProtocol.encodeError("event line 3: not JSON")
        #expect(throws: StdioProtocol.LineError(description: "event line 3: not JSON")) {
            try StdioProtocol.decodeEffects(line)
        }
    }

    /// The handshake names the node and the protocol version.
    @Test func handshake() throws {
        let line = StdioProtocol.handshake(name: "node01", address: "127.0.0.1:9701")
        #expect(line == #"{"ready":{"address":"127.0.0.1:9701","name":"node01","protocol":1}}"#)
        #expect(try StdioProtocol.decodeHandshake(line) == ("node01", "127.0.0.1:9701"))
    }

    /// The driver answers each line once, reports bad lines, and stops at EOF.
    @Test func driverLoop() {
        var input = [
            StdioProtocol.encode(StdioProtocol.TimedEvent(.start, time: 0)),
            "garbage",
            StdioProtocol.encode(StdioProtocol.TimedEvent(.client(1, ClientRequest(type: "GET_MEMBERS")), time: 1)),
        ][...]
        var output: [String] = []
        var logged: [String] = []
        let node = KvorumNode(config: NodeConfig(name: "n", address: "a:1"), storage: MemoryStorage())
        let handled = StdioDriver(
            node: node, readLine: { input.popFirst() }, writeLine: { output.append($0) }, log: { logged.append($0) }
        ).run()
        #expect(handled == 3)
        #expect(output.count == 4)
        #expect(output[2].contains("error"))
        #expect(output[3].contains("MEMBERS"))
        #expect(logged.count == 1)
    }

    /// fuzz-stdio: a read reply with `"tombstones": 0` and a context
    /// decoded to a result whose context no version covers, which the
    /// encoder (it writes both only when the read met tombstones) dropped,
    /// so the effect did not survive a round trip. Such a reply is refused.
    @Test func zeroTombstonesWithAContextAreRefused() throws {
        let found =
            #"{"effects":[{"reply":{"body":{"context":"n1.1:2,n2.1:1","metadata":[],"tombstones":0,"values":[]},"#
            + #""id":11,"type":"GET_RESP"}}]}"#
        #expect(throws: StdioProtocol.LineError.self) { try StdioProtocol.decodeEffects(found) }
        let withTombstone = found.replacing(#""tombstones":0"#, with: #""tombstones":1"#)
        let effects = try StdioProtocol.decodeEffects(withTombstone)
        #expect(try StdioProtocol.decodeEffects(StdioProtocol.encode(effects)) == effects)
    }

    /// The stdio fuzzer's seed corpus (docs/fuzzing.md) is what the encoder
    /// writes: each event line, an effects line, an error line and the
    /// handshake (regenerate with `KVORUM_WRITE_FUZZ_SEEDS=1`).
    @Test func fuzzSeedsAreCurrent() throws {
        var lines = Self.events.enumerated().map { index, event in
            (name: "event-\(index)", line: StdioProtocol.encode(StdioProtocol.TimedEvent(event, time: 12.5)))
        }
        lines += [
            (name: "effects", line: StdioProtocol.encode(Self.effects)),
            (name: "error", line: StdioProtocol.encodeError("event line 3: bad")),
            (name: "handshake", line: StdioProtocol.handshake(name: "node01", address: "127.0.0.1:9701")),
        ]
        let seeds = lines.map { (name: $0.name, bytes: Array($0.line.utf8)) }
        #expect(try FuzzSeedCorpus.mismatches(target: "stdio", seeds: seeds) == [])
    }
}
