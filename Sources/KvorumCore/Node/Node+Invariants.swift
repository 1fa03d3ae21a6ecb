extension KvorumNode {
    /// What must hold between any two events, checked after every event in
    /// debug builds (and so in every test): the node's parts agree with each
    /// other and with storage.
    ///
    /// - Returns: a description of each broken invariant; empty when all hold.
    public func invariantViolations() -> [String] {
        var broken: [String] = []
        func require(_ condition: Bool, _ what: @autoclosure () -> String) {
            if !condition { broken.append(what()) }
        }
        let timers = state.timers
        let stored = storage.hints()
        require(state.hints.hints == stored, "hints in memory \(state.hints.hints) differ from stored \(stored)")
        require(!state.hints.targets.contains(name), "a hint targets the node itself")
        require(state.hints.isEmpty || timers.isArmed(.handoff), "hints are pending but no handoff is armed")
        for suspect in state.detector.sorted {
            require(state.membership.isUp(suspect), "suspect \(suspect) is not an up member")
        }
        require(state.detector.isEmpty || timers.isArmed(.probe), "peers are suspected but no probe is armed")
        require(
            state.membership.joinContact == nil || timers.isArmed(.join), "a join is pending but its timer is not armed"
        )
        require(ring.members == view.upMembers, "the ring \(ring.members) lags the view \(view.upMembers)")
        require(
            state.antiEntropy.tree.keyCount == storage.recordCount,
            "the hash tree holds \(state.antiEntropy.tree.keyCount) keys, storage \(storage.recordCount)")
        let ids = state.coordinator.ids
        require(Set(ids).count == ids.count, "an operation id is in two tables")
        for id in ids {
            require(timers.isArmed(.operation(id)), "operation \(id) is live but its timer is not armed")
        }
        for case .operation(let id) in timers.sorted {
            require(state.coordinator.kind(of: id) != nil, "timer of operation \(id) is armed but it has ended")
        }
        broken += state.coordinator.violations()
        broken += state.reaper.violations()
        require(state.reaper.isEmpty || timers.isArmed(.reap), "tombstones are held but no reaping is armed")
        for key in state.reaper.deleted {
            require(storage.record(for: key)?.siblings.isDeleted == true, "key '\(key)' is no longer deleted")
        }
        return broken
    }
}
