import KvorumCore

extension Simulation {
    /// Puts a peer message on the network, applying the network model: a
    /// self-message is due at once and never lost; any other may be lost (now
    /// or at delivery, per `network.dropDecision`), duplicated and delayed,
    /// and held by a cut (`network.cuts`). It leaves `departingAfter`
    /// seconds from now, when the event that sent it ends (`WorkModel`).
    func send(_ message: PeerMessage, from slot: NodeSlot, to address: Address, departingAfter: Double) {
        messagesSent += 1
        sentByKind.count(message.body)
        guard let destination = addresses.slot(at: address) else {
            log("dropped \(slot.config.name) -> \(address) \(TraceFormat.describe(message.body)) (unknown address)")
            return
        }
        var envelope = Envelope(
            source: slot,
            destination: destination,
            message: message,
            destinationLife: destination.life,
            decidedAtDelivery: network.dropDecision == .atDelivery,
            sentAt: now
        )
        // The trace's lines are built inside `log`'s autoclosures only: the
        // names and a closure over the message, made beforehand, cost every
        // message about 50 instructions with the trace off.
        if destination === slot {
            log(Self.route(envelope))
            envelope.decidedAtDelivery = false
            schedule(.message(envelope), after: departingAfter)
            return
        }
        let copies = network.duplicateRate > 0 && random.chance(network.duplicateRate) ? 2 : 1
        log(Self.route(envelope) + (copies > 1 ? " (duplicated)" : ""))
        for _ in 0..<copies {
            if network.dropDecision == .atSend, let reason = lossReason(envelope, decidingFaults: true) {
                log("dropped \(Self.route(envelope)) (\(reason))")
                continue
            }
            queue.insert(
                .message(envelope), due: arrival(from: slot, to: destination, after: departingAfter + drawDelay()))
        }
    }

    /// "sender -> destination message", as the trace writes a message.
    private static func route(_ envelope: Envelope) -> String {
        "\(envelope.from) -> \(envelope.to) \(TraceFormat.describe(envelope.message.body))"
    }

    /// Delivers a message that has come due, unless it is lost now or a cut
    /// holds it; one that arrives while its destination is busy waits there.
    func deliver(_ envelope: consuming Envelope) {
        let destination = envelope.destination
        if case .holds = network.cuts, !envelope.arrived, destination.node != nil,
            destination.life == envelope.destinationLife,
            envelope.source !== destination, let reason = cutOffReason(from: envelope.from, to: envelope.to)
        {
            log("held \(Self.route(envelope)) (\(reason))")
            held.append(envelope)
            return
        }
        if let reason = lossReason(envelope, decidingFaults: envelope.decidedAtDelivery) {
            log("dropped \(Self.route(envelope)) (\(reason))")
            return
        }
        guard let node = destination.node else { return }
        if destination.busyUntil > now {
            var waiting = envelope
            waiting.arrived = true
            waiting.decidedAtDelivery = false
            queue.insert(.message(waiting), due: destination.busyUntil)
            return
        }
        messagesDelivered += 1
        log("\(envelope.to) <- \(envelope.from) \(TraceFormat.describe(envelope.message.body))")
        let sender = envelope.source.config.address
        handle(.peer(from: sender, envelope.takeMessage()), at: destination, node: node)
    }

    /// Why the message is lost at this moment, or nil when it gets through. A
    /// crashed destination (or one that crashed since the send) always loses
    /// it; faults and random loss count only when `decidingFaults`.
    private func lossReason(_ envelope: Envelope, decidingFaults: Bool) -> String? {
        let destination = envelope.destination
        if destination.node == nil || destination.life != envelope.destinationLife {
            return "\(envelope.to) down"
        }
        guard decidingFaults else { return nil }
        if network.cuts == .drops, let reason = cutOffReason(from: envelope.from, to: envelope.to) { return reason }
        if network.dropRate > 0, random.chance(network.dropRate) { return "lost" }
        return nil
    }

    /// Why the network between two nodes is cut, or nil when it is not.
    func cutOffReason(from sender: String, to receiver: String) -> String? {
        guard !disconnected.isEmpty || !cutLinks.isEmpty else { return nil }
        if disconnected.contains(sender) { return "\(sender) disconnected" }
        if disconnected.contains(receiver) { return "\(receiver) disconnected" }
        if cutLinks.contains(Link(from: sender, to: receiver)) { return "link cut" }
        return nil
    }

    /// Sends on the messages held on links that are no longer cut, in the
    /// order they were held, all with one delay drawn now; those sent more
    /// than the hold limit ago are dropped. Called whenever a cut heals.
    func releaseHeld() {
        guard !held.isEmpty else { return }
        let limit: Double
        switch network.cuts {
        case .holds(let seconds): limit = seconds
        case .drops: limit = 0
        }
        var stillHeld: [Envelope] = []
        var released: [Envelope] = []
        for envelope in held {
            if cutOffReason(from: envelope.from, to: envelope.to) != nil {
                stillHeld.append(envelope)
            } else {
                released.append(envelope)
            }
        }
        held = stillHeld
        guard !released.isEmpty else { return }
        let delay = drawDelay()
        for var envelope in released {
            let age = TraceFormat.seconds(now - envelope.sentAt)
            guard now - envelope.sentAt <= limit else {
                log("dropped \(Self.route(envelope)) (held \(age) s, over the hold limit)")
                continue
            }
            log("late \(Self.route(envelope)) (sent \(age) s ago)")
            envelope.decidedAtDelivery = false
            queue.insert(
                .message(envelope), due: arrival(from: envelope.source, to: envelope.destination, after: delay))
        }
    }

    /// When a message put on the link from `source` to `destination` now,
    /// `delay` seconds away, arrives: under `LinkOrder.fifo`, never before
    /// the last message put on that link.
    private func arrival(from source: NodeSlot, to destination: NodeSlot, after delay: Double) -> Double {
        let due = now + max(0, delay)
        guard network.order == .fifo else { return due }
        let key = ObjectIdentifier(destination)
        let ordered = max(due, source.lastArrival[key] ?? 0)
        source.lastArrival[key] = ordered
        return ordered
    }

    /// The delay of one message copy: the delay model plus, sometimes, a
    /// reordering delay.
    private func drawDelay() -> Double {
        var delay: Double
        switch network.delay {
        case .fixed(let seconds):
            delay = seconds
        case .uniform(let lower, let upper):
            delay = random.nextDouble(from: lower, to: upper)
        }
        if network.reorderRate > 0, random.chance(network.reorderRate) {
            delay += random.nextDouble(from: 0, to: network.reorderExtraDelay)
        }
        return delay
    }
}
