extension KvorumNode {
    /// REMOVE (Kvorum's addition to docs/protocol.md): an operator takes another member
    /// out of the ring because it can no longer LEAVE by itself, e.g. its disk
    /// died (Riak's `cluster force-remove`, Cassandra's `nodetool removenode`).
    ///
    /// This node writes the member's entry as `left` with the entry's version
    /// + 1, which supersedes every entry the member itself wrote so far (a
    /// tie with a concurrent entry of its own goes to `left` as well), then
    /// rebuilds its ring and pushes the view to every other member, as LEAVE
    /// does. The removed member's copies are not handed over: they are gone.
    /// Its keys' new replicas get them from the surviving replicas by
    /// anti-entropy and read repair, and `viewChanged` re-targets the hints
    /// stand-ins kept for it. A removed node that is in fact alive learns from
    /// the view that it has left: it hands its records to their replicas and
    /// refuses reads and writes until it JOINs again.
    ///
    /// - Returns: `REMOVE_RESP` with the member's name, or `ERROR` when the
    ///   member is this node, unknown, already gone, or this node is not a
    ///   member itself (its view could be anything).
    func remove(_ member: String) -> ClientReply {
        if let refusal = removalRefusal(of: member) { return refusal }
        let entry = view.entries[member]!
        // The removed member is told too: if it is alive after all, it stops serving.
        let others = view.upMembers.filter { $0 != name }
        state.membership.merge(
            MemberEntry(
                name: member, address: entry.address, status: .left, version: entry.version + 1,
                identity: entry.identity))
        for peer in others { pushView(to: peer) }
        observe(.memberRemoved(name: member, address: entry.address))
        viewChanged()
        return .removed(member: member)
    }

    /// Why this node will not remove `member`, as the `ERROR` to answer, or nil.
    private func removalRefusal(of member: String) -> ClientReply? {
        if !state.membership.isUp(name) || ring.isEmpty {
            return .failed("node \(name) is not a member of a cluster: send REMOVE to a member", .unavailable)
        }
        if let contact = state.membership.joinContact {
            return .failed("node \(name) is still joining through \(contact): send REMOVE to a member", .unavailable)
        }
        if member == name {
            return .refused("node \(name) cannot remove itself: send it LEAVE instead")
        }
        guard let entry = view.entries[member] else {
            return .refused("no member named '\(member)': GET_MEMBERS lists the members")
        }
        if entry.status == .left {
            return .refused("'\(member)' has already left the cluster")
        }
        return nil
    }
}
