import Foundation
import KvorumChaos
import KvorumCore
import Testing

struct HistoryCheckerTests {
    /// The kinds of the report's violations, in order.
    private func kinds(_ report: CheckReport) -> [ViolationKind] {
        report.violations.map(\.kind)
    }

    /// A correct run of all three workloads, with failed and indeterminate
    /// writes (applied or not), a write superseded by a failed-but-applied
    /// write, true siblings, a merged cart and faults: no violation.
    @Test func cleanHistoryIsValid() throws {
        var s = HistoryScript()
        s.startFault(.partitionMajority, id: 1, detail: "n1 n2 n3 | n4 n5")
        s.write(.set, "set-0", "s1")
        s.write(.set, "set-0", "s2", node: "n2", executedAt: "n2.1", process: 2)
        s.write(.set, "set-0", "s3", outcome: .fail, executedAt: "n3.1")
        s.write(.set, "set-0", "s4", outcome: .info, executedAt: nil)
        s.read(.set, "set-0", node: "n4")
        s.stopFault(.partitionMajority, id: 1, detail: "n1 n2 n3 | n4 n5")

        let r1Written = s.write(.register, "reg-0", "r1")
        let r1 = try #require(r1Written)
        let read = s.read(.register, "reg-0")
        s.write(.register, "reg-0", "r2", context: read)
        // Read r1 only, so concurrent with r2: a true sibling.
        s.write(.register, "reg-0", "r3", context: r1.metadata, node: "n2", executedAt: "n2.1")
        s.write(.register, "reg-1", "q1")
        let q1read = s.read(.register, "reg-1")
        s.startFault(.kill, id: 2, detail: "n2")
        s.write(.register, "reg-1", "q2", context: q1read, outcome: .fail, executedAt: "n3.1")
        s.stopFault(.kill, id: 2, detail: "n2")

        s.write(.cart, "cart-0", "milk", item: "milk")
        let before = s.read(.cart, "cart-0")
        s.write(.cart, "cart-0", "milk,eggs", item: "eggs", context: before)
        s.write(.cart, "cart-0", "milk,bread", item: "bread", context: before, node: "n2", executedAt: "n2.1")
        s.write(.cart, "cart-0", "milk,eggs,bread,jam", item: "jam", context: before, outcome: .info, executedAt: nil)
        s.read(.cart, "cart-0", node: "n3")

        s.finals(.set, "set-0")
        s.finals(.register, "reg-0")
        s.finals(.register, "reg-1")
        s.finals(.cart, "cart-0")
        #expect(s.stored("reg-0").values == ["r2", "r3"])
        #expect(s.stored("reg-1").values == ["q2"])
        #expect(s.stored("cart-0").values == ["bread,eggs,milk"])
        #expect(s.stored("cart-0").metadata == ["|n1.1:2,n2.1:1"])

        let report = HistoryChecker.check(s.entries)
        #expect(report.isValid, "\(report.rendered())")
        #expect(report.keys == 4)
        #expect(report.finalRecords == 16)
        #expect(report.faults.map(\.fault) == [.partitionMajority, .kill])
        let setWrites = try #require(report.operations.first { $0.workload == .set && $0.f == .write })
        let setCounts: [Int] = [setWrites.invoked, setWrites.ok, setWrites.fail, setWrites.info, setWrites.unfinished]
        #expect(setCounts == [4, 2, 1, 1, 0])
        let cartReads = try #require(report.operations.first { $0.workload == .cart && $0.f == .read })
        let cartCounts: [Int] = [cartReads.invoked, cartReads.ok]
        #expect(cartCounts == [2, 2])
        let rendered = report.rendered()
        #expect(rendered.contains("VALID: no violations"))
        #expect(rendered.contains("partition-majority"))
    }

    /// Set: an acknowledged value missing at one replica is lost, reported
    /// with the faults active while it was written, and nothing else.
    @Test func lostSetWrite() throws {
        var s = HistoryScript()
        s.startFault(.netem, id: 1, detail: "n3 delay 0.2 s")
        s.stopFault(.netem, id: 1)
        s.write(.set, "set-0", "s1")
        s.startFault(.isolate, id: 2, detail: "n3")
        s.write(.set, "set-0", "s2", node: "n2", executedAt: "n2.1")
        s.stopFault(.isolate, id: 2, detail: "n3")
        s.finals(.set, "set-0", holding: ["n3": s.stored("set-0", without: ["s2"])])
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.lostWrite, .divergence], "\(report.rendered())")
        let lost = try #require(report.violations(.lostWrite).first)
        #expect(lost.key == "set-0")
        #expect(lost.value == "s2")
        #expect(lost.op == 2)
        #expect(lost.nodes == ["n3"])
        #expect(lost.faults.map(\.id) == [2])
        #expect(lost.faults.first?.fault == .isolate)
        #expect(report.rendered().contains("during isolate #2 (n3)"))
    }

    /// Cart: an acknowledged item missing from a replica's cart is lost,
    /// although the replica holds a version of the cart.
    @Test func lostCartItem() throws {
        var s = HistoryScript()
        let milkWritten = s.write(.cart, "cart-1", "milk", item: "milk")
        let milk = try #require(milkWritten)
        let read = s.read(.cart, "cart-1")
        s.write(.cart, "cart-1", "milk,eggs", item: "eggs", context: read)
        s.write(.cart, "cart-1", "milk,eggs,tea", item: "tea", context: read, outcome: .fail, executedAt: nil)
        // n2 still holds the first version only.
        s.finals(.cart, "cart-1", holding: ["n2": SiblingSet([milk])])
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.lostWrite, .divergence], "\(report.rendered())")
        let lost = try #require(report.violations(.lostWrite).first)
        #expect(lost.item == "eggs")
        #expect(lost.nodes == ["n2"])
    }

    /// Register: a write may vanish only when a client that read it replaced
    /// it. Here the replacing version's stored past covers r1, but its client
    /// wrote blind: the node invented the causality, and r1 is lost.
    @Test func lostRegisterWrite() throws {
        var s = HistoryScript()
        let r1Written = s.write(.register, "reg-0", "r1")
        let r1 = try #require(r1Written)
        s.write(
            .register, "reg-0", "r2", context: nil, node: "n2", executedAt: "n2.1", storedPast: .instead(r1.metadata))
        #expect(s.stored("reg-0").values == ["r2"])
        s.finals(.register, "reg-0")
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.lostWrite], "\(report.rendered())")
        let lost = try #require(report.violations.first)
        #expect(lost.value == "r1")
        #expect(lost.nodes == ["n1", "n2", "n3"])

        // The same final state is fine when r2's client did send r1's context.
        var fine = HistoryScript()
        let f1Written = fine.write(.register, "reg-0", "r1")
        let f1 = try #require(f1Written)
        fine.write(.register, "reg-0", "r2", context: f1.metadata, node: "n2", executedAt: "n2.1")
        fine.finals(.register, "reg-0")
        #expect(fine.stored("reg-0").metadata == s.stored("reg-0").metadata)
        #expect(HistoryChecker.check(fine.entries).isValid)
    }

    /// Two siblings where the client of one had read the other: the node
    /// ignored the context it was sent.
    @Test func falseSibling() throws {
        var s = HistoryScript()
        let r1Written = s.write(.register, "reg-0", "r1")
        let r1 = try #require(r1Written)
        s.write(
            .register, "reg-0", "r2", context: r1.metadata, node: "n2", executedAt: "n2.1", storedPast: .instead(nil))
        #expect(s.stored("reg-0").values == ["r1", "r2"])
        s.finals(.register, "reg-0")
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.falseSibling], "\(report.rendered())")
        let sibling = try #require(report.violations.first)
        #expect(sibling.value == "r1")
        #expect(sibling.op == 1)
        #expect(sibling.otherOp == 2)
        #expect(sibling.nodes == ["n1", "n2", "n3", "n4"])
    }

    /// Replicas that hold different versions diverge, even when no
    /// acknowledged write is missing (the missing one failed).
    @Test func divergence() throws {
        var s = HistoryScript()
        s.write(.set, "set-0", "s1")
        s.write(.set, "set-0", "s2", outcome: .fail, executedAt: "n2.1")
        s.finals(.set, "set-0", others: [], holding: ["n3": s.stored("set-0", without: ["s2"])])
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.divergence], "\(report.rendered())")
        #expect(report.violations.first?.key == "set-0")
        #expect(report.violations.first?.nodes == ["n1", "n2", "n3"])
        #expect(report.rendered().contains("n3 holds [\"s1\"@n1.1:1|]"))

        // The same value under other metadata diverges too: a cart that n3
        // holds as a merged version, the others as the write that made it.
        var cart = HistoryScript()
        cart.write(.cart, "cart-0", "a", item: "a")
        let read = cart.read(.cart, "cart-0")
        cart.write(.cart, "cart-0", "a,b", item: "b", context: read, executedAt: "n2.1")
        let written = try #require(cart.stored("cart-0").versions.first)
        let merged = Version(dot: nil, past: written.history, value: "a,b")
        cart.finals(.cart, "cart-0", holding: ["n3": SiblingSet([merged])])
        #expect(cart.stored("cart-0").values == ["a,b"])
        let carts = HistoryChecker.check(cart.entries)
        #expect(kinds(carts) == [.divergence], "\(carts.rendered())")
        #expect(carts.rendered().contains("n3 holds [\"a,b\"@|n1.1:1,n2.1:1]"))
    }

    /// The bug this checker hunts: PUT `old` through n4 while its link to the
    /// key's first replica n1 is cut; the forward times out and is retried at
    /// n2, which acknowledges. `new` replaces `old` with `old`'s context. The
    /// link heals, the first forward arrives late and n1 executes `old` again
    /// under a new dot: `old` is back as a sibling of `new`.
    @Test func duplicateExecutionOfARetriedForward() throws {
        var s = HistoryScript()
        s.write(.register, "reg-0", "before")
        s.startFault(.linkCut, id: 1, detail: "n4 n1")
        let oldWritten = s.write(.register, "reg-0", "old", node: "n4", executedAt: "n2.1")
        let old = try #require(oldWritten)
        s.write(.register, "reg-0", "new", context: old.metadata, node: "n4", executedAt: "n2.1")
        #expect(s.stored("reg-0").values == ["before", "new"])
        s.stopFault(.linkCut, id: 1, detail: "n4 n1")
        s.reexecute("reg-0", "old", context: nil, at: "n1.1")
        #expect(s.stored("reg-0").values == ["before", "old", "new"])
        s.finals(.register, "reg-0")

        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.falseSibling, .duplicateExecution], "\(report.rendered())")
        let duplicate = try #require(report.violations(.duplicateExecution).first)
        #expect(duplicate.value == "old")
        #expect(duplicate.op == 2)
        #expect(duplicate.nodes == ["n1", "n2", "n3", "n4"])
        #expect(duplicate.faults.map(\.fault) == [.linkCut])
        #expect(duplicate.detail.contains("n1.1:2 (n1 n2 n3 n4), n2.1:1 (ack)"))
        let sibling = try #require(report.violations(.falseSibling).first)
        #expect(sibling.value == "old")
        #expect(sibling.op == 2)
        #expect(sibling.otherOp == 3)
        #expect(sibling.detail.contains("covering n2.1:1"))
        #expect(!report.isValid)
    }

    /// One dot naming two values: a node that restarted with a fresh store
    /// and reused its counter.
    @Test func reusedDot() throws {
        var s = HistoryScript()
        let aWritten = s.write(.set, "set-0", "a")
        let a = try #require(aWritten)
        s.write(.set, "set-0", "b", node: "n2", executedAt: "n2.1")
        let reused = Version(dot: a.dot, past: VersionVector(), value: "c")
        s.write(.set, "set-0", "c", outcome: .info, executedAt: nil)
        let held = SiblingSet(s.stored("set-0", without: ["a"]).versions + [reused])
        s.finals(.set, "set-0", others: [], holding: ["n1": held, "n2": held, "n3": held])
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.lostWrite, .dotReuse], "\(report.rendered())")
        #expect(report.violations(.dotReuse).first?.detail == "dot n1.1:1 names \"a\" and \"c\"")
    }

    /// Values and cart items no client wrote, in the final state or in a read.
    @Test func phantoms() throws {
        var s = HistoryScript()
        s.write(.set, "set-0", "s1")
        s.read(.set, "set-0", values: ["s1", "spooky"])
        s.write(.cart, "cart-0", "milk", item: "milk")
        let ghost = Version(dot: Dot(actor: "n3.1", counter: 9), past: VersionVector(), value: "ghost")
        let withGhost = SiblingSet(s.stored("set-0").versions + [ghost])
        s.finals(.set, "set-0", others: [], holding: ["n1": withGhost, "n2": withGhost, "n3": withGhost])
        let caviar = Version(dot: Dot(actor: "n2.1", counter: 5), past: VersionVector(), value: "caviar")
        let cart = SiblingSet(s.stored("cart-0").versions + [caviar], policy: .cart)
        #expect(cart.values == ["caviar,milk"])
        s.finals(.cart, "cart-0", others: [], holding: ["n1": cart, "n2": cart, "n3": cart])
        let report = HistoryChecker.check(s.entries)
        #expect(kinds(report) == [.phantom, .phantom, .phantom], "\(report.rendered())")
        let phantoms = report.violations
        #expect(phantoms.map(\.key) == ["cart-0", "set-0", "set-0"])
        #expect(phantoms[0].item == "caviar")
        #expect(phantoms[1].value == "ghost")
        #expect(phantoms[1].nodes == ["n1", "n2", "n3"])
        #expect(phantoms[2].value == "spooky")
        #expect(phantoms[2].op == 2)
    }

    /// A malformed history is reported entry by entry, not crashed on, and
    /// never passes.
    @Test func malformedHistory() throws {
        var s = HistoryScript()
        let s1Written = s.write(.set, "set-0", "s1")
        let s1 = try #require(s1Written)
        func record(_ op: Int, _ time: Double, key: String = "set-0", value: String = "v") -> OperationRecord {
            OperationRecord(
                process: 1, op: op, time: time, workload: .set, f: .write, key: key, node: "n1", value: value)
        }
        s.append(.ok(record(99, 1)))
        s.append(.invoke(record(1, 2)))
        s.append(.info(record(1, 3)))
        s.append(.invoke(record(5, 4, key: "set-9", value: "x")))
        s.append(.ok(record(5, 4.5, key: "set-9", value: "x")))
        s.append(.nemesis(NemesisRecord(time: 5, phase: .stop, fault: .pause, id: 7, detail: "n2")))
        let bad = [(["s1"], [String]()), (["s1"], ["junk"]), (["s1"], [s1.metadata])]
        for (index, (values, metadata)) in bad.enumerated() {
            s.append(
                .final(
                    FinalRecord(
                        key: "set-0", workload: .set, node: "n\(index + 1)", replica: true, values: values,
                        metadata: metadata)))
        }
        let report = HistoryChecker.check(s.entries)
        let details = report.violations(.malformed).map(\.detail)
        let expected = [
            "op 99 completes (ok) without an invocation before it",
            "op 1 is invoked twice",
            "op 1 completes twice: ok at 0.050 s, then info at 3.000 s",
            "write op 5 is ok without the new version's metadata",
            "fault #7 (pause) stops at 5.000 s without a start",
            "final record: 1 values but 0 metadata strings",
            "final record: metadata \"junk\" of \"s1\": metadata has no '|'",
            "written to, but no replica's final record of the key",
        ]
        for text in expected {
            #expect(details.contains { $0.contains(text) }, "missing \(text) in \(details)")
        }
        #expect(details.count == expected.count, "\(report.rendered())")
        #expect(!report.isValid)
        #expect(report.violations.allSatisfy { $0.kind == .malformed })
    }

    /// Availability per fault kind on a hand-made timeline: link-cut over
    /// [10, 20), kill over [15, 30); an operation counts under the faults
    /// active when it was invoked (the one at 14.7 s completes under kill, but
    /// counts for link-cut only), under both when both were; "no fault"
    /// counts the rest.
    @Test func availabilityPerFaultKind() throws {
        var entries: [HistoryEntry] = [
            .nemesis(NemesisRecord(time: 10, phase: .start, fault: .linkCut, id: 1, detail: "n1 n2")),
            .nemesis(NemesisRecord(time: 15, phase: .start, fault: .kill, id: 2, detail: "n3")),
            .nemesis(NemesisRecord(time: 20, phase: .stop, fault: .linkCut, id: 1, detail: "n1 n2")),
            .nemesis(NemesisRecord(time: 30, phase: .stop, fault: .kill, id: 2, detail: "n3")),
        ]
        let plan: [(time: Double, outcome: Outcome)] = [
            (5, .ok), (10, .ok), (13, .fail), (14.7, .ok), (16, .ok), (20, .info), (25, .ok), (29.9, .unfinished),
            (30, .ok),
        ]
        for (index, step) in plan.enumerated() {
            let record = OperationRecord(
                process: index, op: index + 1, time: step.time, workload: .register, f: .read, key: "reg-0", node: "n1")
            entries.append(.invoke(record))
            var done = record
            done.time += 0.5
            switch step.outcome {
            case .ok:
                done.values = []
                entries.append(.ok(done))
            case .fail: entries.append(.fail(done))
            case .info: entries.append(.info(done))
            case .unfinished: break
            }
        }
        let report = HistoryChecker.check(entries)
        #expect(report.isValid, "\(report.rendered())")
        let rows = Dictionary(uniqueKeysWithValues: report.availability.map { ($0.fault, $0) })
        #expect(report.availability.count == FaultKind.allCases.count + 1)
        #expect(report.availability.first?.fault == nil)
        #expect(rows[nil]?.invoked == 2)
        #expect(rows[nil]?.ok == 2)
        #expect(rows[.linkCut]?.invoked == 4)
        #expect(rows[.linkCut]?.ok == 3)
        #expect(rows[.kill]?.invoked == 4)
        #expect(rows[.kill]?.ok == 2)
        #expect(rows[.kill]?.availability == 0.5)
        #expect(rows[.pause]?.invoked == 0)
        #expect(rows[.pause]?.availability == nil)
        let reads = try #require(report.operations.first { $0.workload == .register && $0.f == .read })
        let readCounts: [Int] = [reads.invoked, reads.ok, reads.fail, reads.info, reads.unfinished]
        #expect(readCounts == [9, 6, 1, 1, 1])
        #expect(report.rendered().contains("link-cut  4        3   75.0 %"))
    }

    /// The report encodes as JSON (for `--json`) and decodes back to the same
    /// verdict and violations.
    @Test func reportAsJSON() throws {
        var s = HistoryScript()
        s.startFault(.wipe, id: 4, detail: "n2")
        s.write(.set, "set-0", "s1")
        s.stopFault(.wipe, id: 4, detail: "n2")
        s.finals(.set, "set-0", holding: ["n2": SiblingSet()])
        let report = HistoryChecker.check(s.entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(report)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""isValid":false"#))
        #expect(text.contains(#""kind":"lost-write""#))
        let decoded = try JSONDecoder().decode(CheckReport.self, from: data)
        #expect(decoded.violations == report.violations)
        #expect(decoded.availability == report.availability)
        #expect(decoded.isValid == false)
    }
}
