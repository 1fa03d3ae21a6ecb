import KvorumCore

extension Simulation {
    /// Cuts the node off: every peer message to or from it is dropped, or
    /// held under `CutModel.holds` (its self-messages and client requests
    /// still get through).
    public func disconnect(_ name: String) {
        requireKnown(name)
        disconnected.insert(name)
        log("** disconnect \(name)")
    }

    /// Undoes `disconnect`; links cut separately stay cut. Held messages whose
    /// link is whole again are sent on.
    public func connect(_ name: String) {
        requireKnown(name)
        disconnected.remove(name)
        log("** connect \(name)")
        releaseHeld()
    }

    /// Drops every message from `from` to `to`; the other direction is untouched.
    public func cutLink(from: String, to: String) {
        requireKnown(from, to)
        cutLinks.insert(Link(from: from, to: to))
        log("** cut \(from) -> \(to)")
    }

    /// Undoes `cutLink(from:to:)` for that one direction.
    public func restoreLink(from: String, to: String) {
        requireKnown(from, to)
        cutLinks.remove(Link(from: from, to: to))
        log("** restore \(from) -> \(to)")
        releaseHeld()
    }

    /// Cuts both directions between every node of `a` and every node of `b`.
    public func partition(_ a: [String], _ b: [String]) {
        for x in a {
            for y in b {
                requireKnown(x, y)
                cutLinks.insert(Link(from: x, to: y))
                cutLinks.insert(Link(from: y, to: x))
            }
        }
        log("** partition [\(a.joined(separator: ","))] | [\(b.joined(separator: ","))]")
    }

    /// Heals the network: restores every cut link and reconnects every node.
    /// Crashed nodes stay down.
    public func resetNetwork() {
        cutLinks.removeAll()
        disconnected.removeAll()
        log("** reset network")
        releaseHeld()
    }

    /// Crashes the node: the node object and its memory are discarded, its
    /// timers are discarded, messages in flight to it and sent to it while it
    /// is down are lost, and requests it has not answered never will be. Its
    /// storage and the replies it gave are kept. Crashing a crashed node does
    /// nothing.
    public func crash(_ name: String) {
        let slot = slot(name)
        guard slot.node != nil else { return }
        slot.node = nil
        slot.life += 1
        slot.busyUntil = 0
        slot.timers.removeAll()
        slot.openRequests.removeAll()
        log("** crash \(name)")
    }

    /// Stops the node for `seconds`, as `kill -STOP` and `kill -CONT` would:
    /// it keeps its memory and its connections but handles nothing
    /// meanwhile; the messages, timer firings and client requests that come
    /// due for it wait and are handled in order once it resumes. Pausing a
    /// crashed node does nothing; a crash ends a pause.
    public func pause(_ name: String, for seconds: Double) {
        precondition(seconds >= 0, "a pause lasts no negative time")
        let slot = slot(name)
        guard slot.node != nil else { return }
        slot.busyUntil = max(slot.busyUntil, now + seconds)
        log("** pause \(name) \(TraceFormat.seconds(seconds)) s")
    }

    /// Crashes the node for good, as a host whose disk died: it can never be
    /// restarted, and its address is free for a node added later (a
    /// replacement host on the same address). Its storage stays readable.
    public func destroy(_ name: String) {
        let slot = slot(name)
        crash(name)
        addresses.release(slot.config.address, from: slot)
        log("** destroy \(name)")
    }

    /// Starts the node again: a new node object from the factory, with the
    /// same configuration and the same storage object, which gets `Event.start`.
    /// A running node is crashed first; a destroyed one cannot restart.
    public func restart(_ name: String) {
        restart(name, with: .start)
    }

    /// Starts the node again as a server process does (`Event.boot`): the
    /// node itself decides how to rejoin, through `contact` if given.
    public func boot(_ name: String, joining contact: Address? = nil) {
        restart(name, with: .boot(joining: contact))
    }

    private func restart(_ name: String, with event: Event) {
        let slot = slot(name)
        precondition(addresses.slot(at: slot.config.address) === slot, "node \(name) was destroyed")
        crash(name)
        slot.life += 1
        log("** restart \(name)")
        start(slot, with: event)
    }
}
