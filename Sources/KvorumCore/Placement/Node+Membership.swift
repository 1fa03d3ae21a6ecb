extension KvorumNode {
    /// JOIN (docs/protocol.md): with its own address the node starts a cluster of one;
    /// otherwise it announces itself to the contact, which adds it and pushes
    /// the new view to every member.
    func join(via contact: Address) {
        state.membership.setJoinRefusal(nil)
        let current = view.entries[name]
        var entry = MemberEntry(
            name: name, address: config.address, status: .up, version: current?.version ?? 1,
            identity: config.identity)
        if let current, current.status == .left || current.address != config.address {
            entry.version = current.version + 1
        }
        if state.membership.merge(entry) { viewChanged() }
        guard contact != config.address else {
            finishJoin()
            return
        }
        setJoinContact(contact)
        send(.join(view.entries[name]!), toAddress: contact)
        setTimer(.join, after: config.joinRetryInterval)
    }

    /// Why this node will not JOIN through `contact`, or nil: a member of a
    /// cluster of several may re-announce itself to a member, but joining
    /// another cluster would take it out of service until that join
    /// completes (and forever if the contact never answers). LEAVE first.
    func joinRefusal(via contact: Address) -> String? {
        let others = upPeerEntries
        guard state.membership.isUp(name), !others.isEmpty, contact != config.address,
            !others.contains(where: { $0.address == contact })
        else { return nil }
        return "node \(name) is already a member of a cluster of \(others.count + 1) and \(contact) is not one of "
            + "its members: send LEAVE first to join another cluster"
    }

    /// The entries of the other members that are up, by name.
    private var upPeerEntries: [MemberEntry] { view.sorted.filter { $0.name != name && $0.status == .up } }

    /// The boot-time choice of how to rejoin (`Event.boot`). A node whose
    /// own entry is not up (it never joined, or it left) starts a cluster
    /// of one unless given a contact.
    func rejoin(via contact: Address?) {
        let own = state.membership.isUp(name) ? view.entries[name] : nil
        if let contact {
            join(via: contact)
        } else if own == nil {
            join(via: config.address)
        } else if own?.address != config.address {
            // Restarted on another address: announce it through a known member.
            join(via: upPeerEntries.first?.address ?? config.address)
        }
    }

    /// The JOIN contact (or a member it led to) refused this node: stop
    /// asking, and refuse client requests with the reason until a JOIN
    /// succeeds.
    func onJoinRefused(_ reason: String, from address: Address) {
        guard state.membership.joinContact != nil else { return }
        finishJoin()
        state.membership.setJoinRefusal(reason)
    }

    func onJoinTimer() {
        guard let contact = state.membership.joinContact, let entry = view.entries[name] else { return }
        send(.join(entry), toAddress: contact)
        setTimer(.join, after: config.joinRetryInterval)
    }

    /// Remembers (durably) the contact of a JOIN in progress.
    private func setJoinContact(_ contact: Address?) {
        state.membership.setJoinContact(contact)
        storage.setJoinContact(contact)
    }

    /// The JOIN in progress, if any, is over.
    private func finishJoin() {
        guard state.membership.joinContact != nil else { return }
        setJoinContact(nil)
        cancelTimer(.join)
    }

    /// LEAVE (docs/protocol.md): the node marks itself as left, tells every member, and
    /// hands each of its records to the node that takes its place.
    func leave() {
        guard let current = view.entries[name], current.status == .up else { return }
        let others = view.upMembers.filter { $0 != name }
        state.membership.merge(
            MemberEntry(
                name: name, address: config.address, status: .left, version: current.version + 1,
                identity: config.identity))
        for peer in others { pushView(to: peer) }
        observe(.memberLeft(name: name, address: config.address))
        viewChanged()
    }

    /// A node asks to join through this one. One that could never be a
    /// member here (a loopback address in a cluster on the network) or that
    /// claims a member's name under another identity is told why, once per
    /// request.
    func onJoinRequest(_ entry: MemberEntry, from address: Address) {
        if let reason = AddressScope.refusal(ofMember: entry.address, joining: config.address)
            ?? view.entries[entry.name].flatMap(entry.impersonation(of:))
        {
            send(
                .joinRefused(reason: "\(name) refuses \(entry.name) at \(entry.address): \(reason)"), toAddress: address
            )
            return
        }
        if state.membership.merge(entry) {
            observe(.joinAccepted(name: entry.name, address: entry.address))
            viewChanged()
            for peer in view.upMembers where peer != name { pushView(to: peer) }
        } else {
            send(.view(view.sorted), toAddress: address)
        }
    }

    /// A peer's view: merge it, and answer with ours when the peer lacks something.
    func onView(_ entries: [MemberEntry], from peer: String, address: Address) {
        if state.membership.merge(contentsOf: entries) { viewChanged() }
        if view.upMembers.count > 1 { finishJoin() }
        if MembershipView(entries) != view {
            pushView(to: peer, address: address)
        }
    }

    /// Peer messages carry the sender's view digest; a differing digest means
    /// one side missed a change, and this side offers its view (once per
    /// digest; the periodic `viewCheck` repeats the offer if it was lost).
    func noticeDigest(of peer: String, digest: UInt64, address: Address) {
        let mine = view.digest
        guard digest != mine, !state.membership.hasPushedCurrentView(to: peer) else { return }
        pushView(to: peer, address: address)
    }

    func pushView(to peer: String, address: Address? = nil) {
        guard let target = address ?? view.address(of: peer) else { return }
        state.membership.notePushedCurrentView(to: peer)
        send(.view(view.sorted), toAddress: target)
    }

    /// The member set changed: rebuild the ring, and hand every record this
    /// node stops replicating to the node that takes its place (Dynamo §4.9).
    ///
    /// For each key, the replicas that drop out and the ones that come in are
    /// paired in preference order; a dropped replica sends its copy only to
    /// its partner, so a JOIN or LEAVE moves each record once per changed slot.
    func viewChanged() {
        observe(.viewChanged(members: view.upMembers))
        storage.setMembership(view.sorted)
        let oldRing = state.membership.rebuildRing()
        state.antiEntropy.forgetSharing()
        let membership = state.membership
        state.detector.forgetAll(unless: membership.isUp)
        state.liveness.forgetAll(unless: membership.isUp)
        guard !oldRing.isEmpty else { return }
        for key in storage.keys() {
            let before = oldRing.replicas(for: key, n: n)
            let after = ring.replicas(for: key, n: n)
            guard before.contains(name) else { continue }
            if after.contains(name) && state.membership.isUp(name) {
                rereplicate(key, before: before, after: after)
                continue
            }
            let entrants = after.filter { !before.contains($0) }
            let dropped = before.filter { !after.contains($0) }
            let index = dropped.firstIndex(of: name) ?? 0
            if index < entrants.count {
                addHint(target: entrants[index], key: key)
            } else {
                for replica in after where replica != name { addHint(target: replica, key: key) }
            }
        }
        for target in state.hints.targets where !state.membership.isUp(target) {
            for key in state.hints.keys(for: target) {
                state.hints.remove(target: target, key: key, storage: storage)
                for replica in ring.replicas(for: key, n: n) where replica != name {
                    addHint(target: replica, key: key)
                }
            }
        }
        for target in state.hints.targets { sendHandoff(to: target) }
    }

    /// This node stays a replica of `key`. If a replica left the key's set
    /// without being up to hand its copy over itself (REMOVE of a dead
    /// member; a LEAVE, whose own handoff may never arrive), the first
    /// remaining replica sends its copy to each entrant at once (through
    /// the hint queue), so that re-replication does not wait for
    /// anti-entropy: a fault run that replaced hosts every few seconds lost
    /// every copy of keys whose new replicas anti-entropy had not reached
    /// yet (docs/chaos.md). After a LEAVE the entrant may get the key twice,
    /// which merging makes harmless.
    private func rereplicate(_ key: Key, before: [String], after: [String]) {
        guard before.contains(where: { !after.contains($0) && !state.membership.isUp($0) }),
            before.first(where: after.contains) == name
        else { return }
        for entrant in after where !before.contains(entrant) { addHint(target: entrant, key: key) }
    }
}
