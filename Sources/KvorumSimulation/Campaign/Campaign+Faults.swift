import KvorumCore

/// The kinds of fault a campaign injects, in the order statistics list them.
enum FaultKind: String, CaseIterable {
    case loss
    case duplication
    case reordering
    case longDelay = "long-delay"
    case partition
    case disconnect
    case crash
    case join
    case leave
    case pause

    var index: Int { Self.allCases.firstIndex(of: self)! }

    func weight(in mix: FaultMix) -> Double {
        switch self {
        case .loss: mix.loss
        case .duplication: mix.duplication
        case .reordering: mix.reordering
        case .longDelay: mix.longDelay
        case .partition: mix.partition
        case .disconnect: mix.disconnect
        case .crash: mix.crash
        case .join: mix.join
        case .leave: mix.leave
        case .pause: mix.pause
        }
    }
}

/// A fault in force and how it ends.
struct ActiveFault {
    enum Undo {
        /// Network weather: the network model is recomputed without it.
        case weather(drop: Double, duplicate: Double, reorder: Double, extraDelay: Double)
        case partition([String], [String])
        case reconnect(String)
        case restart(String)
    }

    var kind: FaultKind
    var healAt: Double
    var undo: Undo
}

extension Campaign {
    /// Draws a fault kind by weight and injects it, if it can apply now.
    func injectFault() {
        let kinds = FaultKind.allCases
        let weights = kinds.map { $0.weight(in: config.faults) }
        let total = weights.reduce(0, +)
        guard total > 0 else { return }
        var roll = random.nextDouble(from: 0, to: total)
        var kind = kinds[kinds.count - 1]
        for (candidate, weight) in zip(kinds, weights) {
            if roll < weight {
                kind = candidate
                break
            }
            roll -= weight
        }
        if inject(kind) { faultCounts[kind.index] += 1 }
    }

    func faultDuration() -> Double {
        random.nextDouble(from: config.faults.duration.lowerBound, to: config.faults.duration.upperBound)
    }

    /// Injects one fault of the kind; false when it cannot apply now.
    func inject(_ kind: FaultKind) -> Bool {
        switch kind {
        case .loss:
            addWeather(kind, drop: random.nextDouble(from: 0.02, to: 0.25))
        case .duplication:
            addWeather(kind, duplicate: random.nextDouble(from: 0.05, to: 0.3))
        case .reordering:
            addWeather(kind, reorder: random.nextDouble(from: 0.1, to: 0.5), extraDelay: 0.5)
        case .longDelay:
            addWeather(
                kind, reorder: random.nextDouble(from: 0.05, to: 0.25), extraDelay: random.nextDouble(from: 2, to: 6))
        case .partition:
            guard !activeFaults.contains(where: { $0.kind == .partition }) else { return false }
            let nodes = shuffled(sim.nodeNames)
            let cut = 1 + random.nextInt(below: nodes.count - 1)
            let a = Array(nodes.prefix(cut)).sorted(by: byteOrder)
            let b = Array(nodes.dropFirst(cut)).sorted(by: byteOrder)
            sim.partition(a, b)
            activeFaults.append(ActiveFault(kind: kind, healAt: sim.now + faultDuration(), undo: .partition(a, b)))
        case .disconnect:
            let cut = activeFaults.compactMap { fault -> String? in
                if case .reconnect(let name) = fault.undo { return name }
                return nil
            }
            guard cut.count < 2 else { return false }
            let candidates = sim.nodeNames.filter { !cut.contains($0) }
            let name = candidates[random.nextInt(below: candidates.count)]
            sim.disconnect(name)
            activeFaults.append(ActiveFault(kind: kind, healAt: sim.now + faultDuration(), undo: .reconnect(name)))
        case .crash:
            let down = sim.nodeNames.filter { !sim.isUp($0) }.count
            let candidates = sim.nodeNames.filter { sim.isUp($0) && !spares.contains($0) }
            guard down < config.faults.maxCrashed, !candidates.isEmpty else { return false }
            let name = candidates[random.nextInt(below: candidates.count)]
            sim.crash(name)
            model.crashes[name]! += 1
            activeFaults.append(ActiveFault(kind: kind, healAt: sim.now + faultDuration(), undo: .restart(name)))
        case .join:
            guard !spares.isEmpty, let contact = pickNode() else { return false }
            let spare = spares.removeFirst()
            sim.log("** campaign: \(spare) joins through \(contact)")
            sim.send(ClientRequest(type: "JOIN", body: .string(sim.address(of: contact))), to: spare)
            model.members = (model.members + [spare]).sorted(by: byteOrder)
            model.membershipChanges.append(
                .init(description: "\(spare) joined via \(contact)", at: sim.now, members: model.members))
        case .leave:
            // The model counts a LEAVE as taken when it is sent, so it goes
            // to a node that takes it at once: one paused would take it only
            // when it resumes, or never if it crashes first.
            guard model.members.count >= 5, let leaver = pickNode(), !sim.isBusy(leaver) else { return false }
            sim.log("** campaign: \(leaver) leaves")
            sim.send(ClientRequest(type: "LEAVE"), to: leaver)
            model.members.removeAll { $0 == leaver }
            model.membershipChanges.append(.init(description: "\(leaver) left", at: sim.now, members: model.members))
        case .pause:
            guard let name = pickNode() else { return false }
            sim.pause(name, for: faultDuration())
        }
        return true
    }

    func addWeather(
        _ kind: FaultKind, drop: Double = 0, duplicate: Double = 0, reorder: Double = 0, extraDelay: Double = 0
    ) {
        activeFaults.append(
            ActiveFault(
                kind: kind, healAt: sim.now + faultDuration(),
                undo: .weather(drop: drop, duplicate: duplicate, reorder: reorder, extraDelay: extraDelay)))
        applyWeather()
    }

    /// The base network plus every weather fault in force (the worst of each).
    func applyWeather() {
        var network = config.baseNetwork
        for fault in activeFaults {
            guard case .weather(let drop, let duplicate, let reorder, let extraDelay) = fault.undo else { continue }
            network.dropRate = max(network.dropRate, drop)
            network.duplicateRate = max(network.duplicateRate, duplicate)
            network.reorderRate = max(network.reorderRate, reorder)
            network.reorderExtraDelay = max(network.reorderExtraDelay, extraDelay)
        }
        guard network != sim.network else { return }
        sim.network = network
        sim.log(
            "** network: drop \(TraceFormat.seconds(network.dropRate)), duplicate "
                + "\(TraceFormat.seconds(network.duplicateRate)), reorder \(TraceFormat.seconds(network.reorderRate))"
                + " up to +\(TraceFormat.seconds(network.reorderExtraDelay)) s")
    }

    /// Undoes the faults whose time is up, in the order they were injected.
    func healDueFaults() {
        let due = activeFaults.filter { $0.healAt <= sim.now }
        guard !due.isEmpty else { return }
        activeFaults.removeAll { $0.healAt <= sim.now }
        for fault in due {
            switch fault.undo {
            case .weather:
                applyWeather()
            case .partition(let a, let b):
                sim.heal(a, b)
            case .reconnect(let name):
                sim.connect(name)
            case .restart(let name):
                sim.restart(name)
            }
        }
    }

    /// Ends every fault: base network, every cut healed, every node up but,
    /// sometimes, one crashed node kept down for a long outage.
    /// - Returns: the node kept down and for how long, if any.
    func stopFaults() -> (node: String, outage: Double)? {
        activeFaults = []
        sim.network = config.baseNetwork
        sim.resetNetwork()
        let down = sim.nodeNames.filter { !sim.isUp($0) }
        var kept: (node: String, outage: Double)?
        if let first = down.first, random.chance(config.faults.longOutageChance) {
            let span = config.faults.longOutage
            kept = (first, random.nextDouble(from: span.lowerBound, to: span.upperBound))
        }
        for name in down where name != kept?.node { sim.restart(name) }
        return kept
    }

    func shuffled(_ items: [String]) -> [String] {
        var items = items
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, random.nextInt(below: i + 1))
        }
        return items
    }
}

extension Simulation {
    /// Undoes `partition(a, b)`: restores both directions between every node
    /// of `a` and every node of `b` (other cuts stay), and sends on what the
    /// partition held.
    func heal(_ a: [String], _ b: [String]) {
        for x in a {
            for y in b {
                cutLinks.remove(Link(from: x, to: y))
                cutLinks.remove(Link(from: y, to: x))
            }
        }
        log("** heal [\(a.joined(separator: ","))] | [\(b.joined(separator: ","))]")
        releaseHeld()
    }
}
