import KvorumCore
import KvorumSimulation
import Testing

@Suite struct TraceFormatTests {
    @Test func timesAreMillisecondsRightAligned() {
        #expect(TraceFormat.time(0) == "[  0.000]")
        #expect(TraceFormat.time(0.30000000000000004) == "[  0.300]")
        #expect(TraceFormat.time(12.0625) == "[ 12.063]")
        #expect(TraceFormat.time(1234.5) == "[1234.500]")
        #expect(TraceFormat.seconds(0.05) == "0.050")
    }

    @Test func writesShowKeySiblingsAndHint() {
        let v1 = Version(dot: Dot(actor: "node01.1", counter: 2), past: VersionVector(["node01.1": 1]), value: "v1")
        let v2 = Version(dot: Dot(actor: "node03.1", counter: 1), past: VersionVector(), value: "v2")
        let siblings = SiblingSet([v1, v2])
        let write = PeerBody.write(op: 3, key: "k", siblings: siblings, hintFor: "node04")
        #expect(
            TraceFormat.describe(write)
                == "write op:3 \"k\" [\"v1\"@node01.1:2|node01.1:1, \"v2\"@node03.1:1|] hint:node04"
        )
        #expect(
            TraceFormat.describe(.repair(key: "k", siblings: SiblingSet())) == "repair \"k\" []")
        #expect(TraceFormat.describe(.readReply(op: 9, siblings: siblings)).hasPrefix("readReply op:9 [\"v1\"@"))
    }

    @Test func longTextIsShortened() {
        let key = String(repeating: "k", count: 100)
        let text = TraceFormat.describe(.read(op: 1, key: Key(key)))
        #expect(text == "read op:1 \"" + String(repeating: "k", count: 23) + "…\"")
        let records = (1...6).map { KeyedSiblings(key: "k\($0)", siblings: SiblingSet()) }
        #expect(
            TraceFormat.describe(.handoff(batch: 2, records: records))
                == "handoff batch:2 [\"k1\"×0, \"k2\"×0, \"k3\"×0, \"k4\"×0, +2 more]"
        )
    }

    @Test func otherBodies() {
        let entry = MemberEntry(name: "node01", address: "127.0.0.1:9701", status: .up, version: 1)
        let left = MemberEntry(name: "node02", address: "127.0.0.1:9702", status: .left, version: 3)
        #expect(TraceFormat.describe(.join(entry)) == "join node01@127.0.0.1:9701 up/1")
        #expect(TraceFormat.describe(.view([entry, left])) == "view [node01 up/1, node02 left/3]")
        let put = PeerBody.forwardPut(
            op: 4, key: "k", payload: .value(Value(text: "v")), context: VersionVector(["a": 2]), quorum: 2)
        #expect(TraceFormat.describe(put) == "forwardPut op:4 \"k\"=\"v\" q2 ctx:a:2")
        #expect(
            TraceFormat.describe(.forwardResult(op: 4, outcome: .written(metadata: "a:3|a:2", siblings: 1)))
                == "forwardResult op:4 written a:3|a:2")
        #expect(
            TraceFormat.describe(.forwardResult(op: 4, outcome: .failed(reason: "timeout", failure: .unavailable)))
                == "forwardResult op:4 failed \"timeout\"")
        #expect(TraceFormat.describe(.ping) == "ping")
        #expect(TraceFormat.describe(.handoffAck(batch: 7)) == "handoffAck batch:7")
    }

    @Test func clientBodiesUseCanonicalJSON() {
        #expect(TraceFormat.describe(["quorum": 2, "key": "a"] as JSON) == "{\"key\":\"a\",\"quorum\":2}")
    }
}
