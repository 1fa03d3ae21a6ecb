extension KvorumNode {
    /// Arms the next view exchange round, the first staggered like
    /// anti-entropy's so that members do not check in lockstep.
    func armViewExchange(first: Bool = false) {
        guard let interval = config.viewExchangeInterval else { return }
        let stagger = first ? Double(StableHash.hash(name + "/view") % 1000) / 1000 * interval : 0
        setTimerIfIdle(.viewExchange, after: interval + stagger)
    }

    /// One round of the view exchange: the next member, in turn, gets our
    /// view digest (`viewCheck`, an empty body). Views otherwise spread only
    /// on the digests other traffic carries, pushed once per digest
    /// (`noticeDigest`), so a lost push to a member nobody talks to would
    /// never be repaired (campaign bug A). One message per member per
    /// interval: M members send M / interval messages per second, plus a
    /// view push each way where views differ.
    func onViewExchangeTimer() {
        defer { armViewExchange() }
        let name = name
        guard state.membership.isUp(name),
            let peer = state.membership.nextExchangePeer(among: view.upMembers.lazy.filter { $0 != name })
        else { return }
        send(.viewCheck, to: peer)
    }

    /// A peer's periodic digest: when it differs from ours, push our view,
    /// however often we pushed before (that push may have been lost). The
    /// peer merges it and, if it knows something we lack, pushes its view back.
    func onViewCheck(from peer: String, digest: UInt64, address: Address) {
        guard digest != view.digest else { return }
        pushView(to: peer, address: address)
    }
}
