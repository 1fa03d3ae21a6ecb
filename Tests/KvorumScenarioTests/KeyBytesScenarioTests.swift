import KvorumCore
import KvorumSimulation
import Testing

/// Keys are byte strings everywhere (issue 11 §2): two keys that differ only
/// in Unicode normalisation, which Swift's `String` treats as equal, are two
/// records at every replica and two hints at a stand-in.
@Suite("Key bytes")
struct KeyBytesScenarioTests {
    /// A replica of two such keys is down, so a stand-in takes a write of
    /// each with a hint for it. Both keys keep their own value at every node
    /// that holds them, the stand-in holds two hints, and once the replica is
    /// back it receives both records, each with its own value.
    @Test func keysThatDifferOnlyInNormalisationStayTwoKeysThroughHandoff() throws {
        let c = Cluster(nodes: 4, timing: .harness) { $0.antiEntropyInterval = nil }
        c.form()
        // The ring hashes the bytes, so the two spellings land in different
        // partitions; pick a pair with the same replicas, so that the same
        // node stands in for the same replica for both.
        let pair = (0..<200).lazy.map { ("caf\u{E9}-\($0)", "cafe\u{301}-\($0)") }.first {
            Set(c.replicas(of: $0.0)) == Set(c.replicas(of: $0.1))
        }
        let (nfc, nfd) = try #require(pair)
        let replicas = c.replicas(of: nfc)
        let standIn = try #require(c.nonReplicas(of: nfc).first)
        let (coordinator, down) = (replicas[0], replicas[2])

        c.sim.disconnect(down)
        #expect(c.put(nfc, "composed", at: coordinator, quorum: 2) != nil)
        #expect(c.put(nfd, "decomposed", at: coordinator, quorum: 2) != nil)
        c.sim.run(for: 0.5)
        func values(_ key: String, at node: String) -> [String]? {
            c.sim.storage(of: node).record(for: Key(key))?.siblings.values
        }
        for node in [coordinator, replicas[1], standIn] {
            #expect(c.sim.storage(of: node).recordCount == 2, "records at \(node)")
            #expect(values(nfc, at: node) == ["composed"], "\(nfc) at \(node)")
            #expect(values(nfd, at: node) == ["decomposed"], "\(nfd) at \(node)")
        }
        let hints = c.sim.storage(of: standIn).hints()
        #expect(hints.map(\.target) == [down, down])
        #expect(hints.map { Array($0.key.utf8) } == [Array(nfd.utf8), Array(nfc.utf8)])
        #expect((c.sim.node(standIn) as? KvorumNode)?.pendingHintCount == 2)

        c.sim.connect(down)
        c.sim.run(for: 5)
        #expect(values(nfc, at: down) == ["composed"])
        #expect(values(nfd, at: down) == ["decomposed"])
        #expect(c.sim.storage(of: standIn).hints().isEmpty)
        #expect(c.sim.storage(of: standIn).recordCount == 0)
        #expect(c.get(nfc, at: down, quorum: 3)?.values == ["composed"])
        #expect(c.get(nfd, at: down, quorum: 3)?.values == ["decomposed"])
    }
}
