import KvorumCore

/// Conveniences for scenario tests against the real node, speaking the
/// client API of docs/protocol.md (`JOIN`, `GET_MEMBERS`, `LOOKUP`).
extension Simulation {
    /// How many events run between two membership polls.
    static let membershipPollEvents = 10

    /// Forms a cluster as the seed's tests do: the contact gets `JOIN` with its
    /// own address (if it is among `names`), then every other node gets `JOIN`
    /// with the contact's address. Then runs, polling with `GET_MEMBERS`, until
    /// the contact and every node of `names` list all of them and agree.
    /// - Parameter maxEvents: the budget of events, polls included.
    /// - Returns: whether membership settled within the budget.
    @discardableResult
    public func formCluster(_ names: [String], via contact: String, maxEvents: Int = 2_000) -> Bool {
        let contactAddress = JSON.string(address(of: contact))
        if names.contains(contact) {
            send(ClientRequest(type: "JOIN", body: contactAddress), to: contact)
        }
        for name in names where name != contact {
            send(ClientRequest(type: "JOIN", body: contactAddress), to: name)
        }
        let involved = names.contains(contact) ? names : [contact] + names
        let expected = Set(involved)
        return poll(maxEvents: maxEvents) { budget in
            var agreed: Set<String>?
            for name in involved {
                guard let list = self.members(at: name, maxEvents: budget()) else { return false }
                let seen = Set(list)
                guard seen.isSuperset(of: expected), agreed == nil || agreed == seen else { return false }
                agreed = seen
            }
            return true
        }
    }

    /// Runs, polling with `GET_MEMBERS`, until each of `nodes` lists exactly
    /// the members `expected` (in any order), e.g. after a `LEAVE`.
    /// - Parameter maxEvents: the budget of events, polls included.
    /// - Returns: whether that happened within the budget.
    @discardableResult
    public func awaitMembers(_ expected: [String], at nodes: [String], maxEvents: Int = 2_000) -> Bool {
        let expected = Set(expected)
        return poll(maxEvents: maxEvents) { budget in
            nodes.allSatisfy { self.members(at: $0, maxEvents: budget()).map(Set.init) == expected }
        }
    }

    /// The node's `MEMBERS` answer, or nil if it is down, does not answer in
    /// time, or answers something else.
    public func members(at name: String) -> [String]? {
        members(at: name, maxEvents: 10_000)
    }

    /// The names of the key's replicas in preference order, from the node's
    /// `LOOKUP_RESP` (a list of `[name, address]` pairs); nil if the node is
    /// down, does not answer in time, or answers something else.
    public func lookup(_ key: String, at name: String) -> [String]? {
        guard isUp(name), case .replicas(let replicas)? = nodeReply(to: .lookup(key: Key(key)), at: name) else {
            return nil
        }
        return replicas.map(\.name)
    }

    private func members(at name: String, maxEvents: Int) -> [String]? {
        guard isUp(name), case .members(let names)? = nodeReply(to: .getMembers, at: name, maxEvents: maxEvents)
        else { return nil }
        return names
    }

    /// Sends a command as a client request and runs until the node replies,
    /// as `request` does, returning the reply as the node gave it.
    private func nodeReply(to command: ClientCommand, at name: String, maxEvents: Int = 10_000) -> ClientReply? {
        let id = send(ClientRequest(command), to: name)
        return runUntilNodeReply(to: id, at: name, maxEvents: maxEvents, timeLimit: 1.0)
    }

    /// Checks `condition`, then runs a few events, until it holds or
    /// `maxEvents` events were stepped (the condition's own included) or
    /// nothing is pending. The condition gets the remaining budget.
    private func poll(maxEvents: Int, until condition: (_ budget: () -> Int) -> Bool) -> Bool {
        let start = stepsTaken
        let remaining = { max(0, maxEvents - (self.stepsTaken - start)) }
        while true {
            if condition(remaining) { return true }
            guard remaining() > 0, run(events: min(Self.membershipPollEvents, remaining())) > 0 else { return false }
        }
    }
}
