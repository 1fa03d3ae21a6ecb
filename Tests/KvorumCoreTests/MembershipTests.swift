import Testing

@testable import KvorumCore

struct MembershipTests {
    static func entry(_ name: String, _ status: MemberEntry.Status = .up, version: UInt64 = 1, address: String? = nil)
        -> MemberEntry
    {
        MemberEntry(name: name, address: address ?? "\(name).local:7000", status: status, version: version)
    }

    /// The higher version of an entry wins whatever its status, and a lower one changes nothing.
    @Test func higherVersionWins() {
        var view = MembershipView([Self.entry("n1", .left, version: 2)])
        let olderUp = view.merge(Self.entry("n1", .up, version: 1))
        #expect(!olderUp)
        #expect(view.upMembers.isEmpty)
        let newerUp = view.merge(Self.entry("n1", .up, version: 3, address: "elsewhere:1"))
        #expect(newerUp)
        #expect(view.upMembers == ["n1"])
        #expect(view.address(of: "n1") == "elsewhere:1")
        let olderLeft = view.merge(Self.entry("n1", .left, version: 2))
        #expect(!olderLeft)
        #expect(view.entries["n1"]?.version == 3)
    }

    /// At equal versions `left` beats `up`, in either order.
    @Test func leftBeatsUpAtEqualVersion() {
        let up = Self.entry("n1", .up, version: 4)
        let left = Self.entry("n1", .left, version: 4)
        #expect(MembershipView([up, left]).entries["n1"] == left)
        #expect(MembershipView([left, up]).entries["n1"] == left)
    }

    /// At equal version and status the byte-wise larger address wins, in either order.
    @Test func addressBreaksTies() {
        let a = Self.entry("n1", address: "10.0.0.1:7000")
        let b = Self.entry("n1", address: "10.0.0.2:7000")
        #expect(MembershipView([a, b]) == MembershipView([b, a]))
        #expect(MembershipView([a, b]).address(of: "n1") == "10.0.0.2:7000")
        var view = MembershipView([a])
        let stale = view.merge(a)
        #expect(!stale)
    }

    /// A node that left stays as a tombstone: listed in entries, absent from `upMembers`, not revived by old news.
    @Test func tombstonesStay() {
        var view = MembershipView([Self.entry("n1"), Self.entry("n2")])
        let changed = view.merge(Self.entry("n2", .left, version: 2))
        #expect(changed)
        let stale = view.merge(Self.entry("n2", .up, version: 1))
        #expect(!stale)
        #expect(view.upMembers == ["n1"])
        #expect(view.entries["n2"]?.status == .left)
        #expect(view.sorted.map(\.name) == ["n1", "n2"])
        #expect(view.address(of: "n2") == "n2.local:7000")
        #expect(view.address(of: "n9") == nil)
    }

    /// `upMembers` and `sorted` are in byte-wise name order whatever the merge order.
    @Test func upMembersSorted() {
        let names = ["node10", "node02", "Node03", "node01", "nöde"]
        var view = MembershipView()
        for name in names { view.merge(Self.entry(name)) }
        #expect(view.upMembers == ["Node03", "node01", "node02", "node10", "nöde"])
        #expect(view.sorted.map(\.name) == view.upMembers)
    }

    /// Views merged from the same entries in any order are equal and have equal digests.
    @Test func digestIndependentOfMergeOrder() {
        let entries = [
            Self.entry("n1"),
            Self.entry("n2", version: 2),
            Self.entry("n2", .left, version: 2),
            Self.entry("n3", address: "x:1"),
            Self.entry("n3", address: "y:1"),
        ]
        let reference = MembershipView(entries)
        for order in permutations(entries) {
            let view = MembershipView(order)
            #expect(view == reference)
            #expect(view.digest == reference.digest)
        }
    }

    /// Any difference in name, address, status or version changes the digest.
    @Test func digestSeesEveryField() {
        let base = [Self.entry("n1"), Self.entry("n2")]
        let variants = [
            [Self.entry("n1")],
            [Self.entry("n1"), Self.entry("n3")],
            [Self.entry("n1"), Self.entry("n2", address: "n2.local:7001")],
            [Self.entry("n1"), Self.entry("n2", .left)],
            [Self.entry("n1"), Self.entry("n2", version: 2)],
            [Self.entry("n1"), Self.entry("n2"), Self.entry("n3", .left)],
        ]
        let digests = ([base] + variants).map { MembershipView($0).digest }
        #expect(Set(digests).count == digests.count)
    }
}
