import Foundation
import KvorumChaos
import Testing

struct HistoryFormatTests {
    static let every: [HistoryEntry] = [
        .invoke(
            OperationRecord(
                process: 3, op: 17, time: 12.401, workload: .register, f: .write, key: "reg-2", node: "n2",
                value: "p3-17", context: "n1.1:1|")),
        .ok(
            OperationRecord(
                process: 3, op: 17, time: 12.452, workload: .register, f: .write, key: "reg-2", node: "n2",
                value: "p3-17", context: "n1.1:1|", metadata: "n2.1:4|n1.1:1")),
        .invoke(OperationRecord(process: 1, op: 18, time: 13, workload: .cart, f: .read, key: "cart-0", node: "n5")),
        .ok(
            OperationRecord(
                process: 1, op: 18, time: 13.5, workload: .cart, f: .read, key: "cart-0", node: "n5",
                context: "n1.1:2,n3.1:1", values: ["a,b", "c"])),
        .fail(
            OperationRecord(
                process: 2, op: 19, time: 14, workload: .set, f: .write, key: "set-1", node: "n1", value: "p2-19",
                error: "503: quorum not reached")),
        .info(
            OperationRecord(
                process: 4, op: 20, time: 15, workload: .cart, f: .write, key: "cart-1", node: "n3",
                value: "x,\"quoted\" ü", item: "\"quoted\" ü", context: "", error: "timeout")),
        .nemesis(NemesisRecord(time: 9.5, phase: .start, fault: .partitionBridge, id: 2, detail: "n1 n2 | n3 | n4 n5")),
        .nemesis(NemesisRecord(time: 19.5, phase: .stop, fault: .linkCutOneWay, id: 3, detail: "n1 -> n2")),
        .final(
            FinalRecord(
                key: "reg-2", workload: .register, node: "n4", replica: true, values: ["a", "b"],
                metadata: ["n1.1:1|", "n2.1:1|"])),
        .final(FinalRecord(key: "set-0", workload: .set, node: "n5", replica: false, values: [], metadata: [])),
    ]

    /// Every entry kind, with and without optional fields, survives a line
    /// and a whole JSON-lines file.
    @Test func roundTrip() throws {
        for entry in Self.every {
            let line = History.line(entry)
            #expect(!line.contains("\n"))
            #expect(try History.parse(line: line) == entry)
        }
        let text = Self.every.map(History.line).joined(separator: "\n") + "\n"
        #expect(try History.parse(jsonLines: text) == Self.every)
    }

    /// A flat object: `type` beside the record's fields, keys sorted, nil
    /// fields left out, every fault kind by its name.
    @Test func lineShape() throws {
        #expect(
            History.line(Self.every[1])
                == #"{"context":"n1.1:1|","f":"write","key":"reg-2","metadata":"n2.1:4|n1.1:1","node":"n2","#
                + #""op":17,"process":3,"time":12.452,"type":"ok","value":"p3-17","workload":"register"}"#)
        #expect(
            History.line(Self.every[6])
                == #"{"detail":"n1 n2 | n3 | n4 n5","fault":"partition-bridge","id":2,"phase":"start","time":9.5,"#
                + #""type":"nemesis"}"#)
        #expect(
            History.line(Self.every[9])
                == #"{"key":"set-0","metadata":[],"node":"n5","replica":false,"type":"final","values":[],"#
                + #""workload":"set"}"#)
        let names = FaultKind.allCases.map(\.rawValue)
        #expect(
            names == [
                "link-cut-one-way", "link-cut", "isolate", "partition-majority", "partition-bridge", "netem", "kill",
                "pause", "wipe",
            ])
        let written = #"{"type":"info","time":2,"op":5,"process":0,"f":"read","key":"k","node":"n1","workload":"set"}"#
        #expect(
            try History.parse(line: written)
                == .info(OperationRecord(process: 0, op: 5, time: 2, workload: .set, f: .read, key: "k", node: "n1")))
    }

    /// Times JSON numbers cannot hold still make a line and come back, and
    /// the checker reports on them without trapping.
    @Test func nonFiniteTimes() throws {
        let times: [Double] = [.infinity, -.infinity, 1e300, .nan]
        var entries: [HistoryEntry] = []
        for (index, time) in times.enumerated() {
            let record = OperationRecord(
                process: 1, op: index, time: time, workload: .set, f: .read, key: "k", node: "n1", values: [])
            entries += [.invoke(record), .ok(record)]
            entries.append(.nemesis(NemesisRecord(time: time, phase: .start, fault: .pause, id: index, detail: "")))
        }
        let lines = entries.map(History.line)
        #expect(lines[0].contains(#""time":"inf""#))
        #expect(lines[9].contains(#""time":"nan""#))
        let parsed = try History.parse(jsonLines: lines.joined(separator: "\n"))
        #expect(Array(parsed.prefix(9)) == Array(entries.prefix(9)))
        guard case .invoke(let record) = parsed[9] else {
            Issue.record("entry 9 is \(parsed[9]), not an invocation")
            return
        }
        #expect(record.time.isNaN)
        let report = HistoryChecker.check(parsed)
        #expect(report.isValid, "\(report.rendered())")
        #expect(report.rendered().contains("pause"))
    }

    /// A bad line is named by its number, with its text and what is wrong;
    /// blank lines are skipped, not counted as entries.
    @Test func parseErrorNamesTheLine() {
        let good = History.line(Self.every[0])
        let cases: [(line: String, reason: String)] = [
            (#"{"type":"ok","process":1}"#, "missing field"),
            ("not json at all", "not a JSON object"),
            (#"{"type":"crash","time":1}"#, "'type'"),
            (#"{"type":"nemesis","time":1,"phase":"start","fault":"meteor","id":1,"detail":""}"#, "'fault'"),
            (#"{"type":"invoke","process":"one","op":1}"#, "'process'"),
        ]
        for (bad, reason) in cases {
            let text = good + "\n\n" + bad + "\n" + good + "\n"
            #expect {
                try History.parse(jsonLines: text)
            } throws: { error in
                guard let error = error as? History.ParseError else { return false }
                let description = error.description
                return error.line == 3 && description.hasPrefix("line 3: ") && description.contains(bad)
                    && description.contains(reason)
            }
        }
    }
}
