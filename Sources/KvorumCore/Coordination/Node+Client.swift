extension KvorumNode {
    /// Handles one client request in the seed's shapes (docs/protocol.md): one that
    /// cannot be read gets one `ERROR` and changes nothing.
    func onClient(_ id: RequestID, _ request: ClientRequest) {
        do {
            onCommand(id, try ClientCommand(seed: request), acknowledgeMembership: false)
        } catch {
            reply(id, .refused(error.reason))
        }
    }

    /// Handles one client command. Every command gets exactly one reply, now
    /// or when its operation ends, except JOIN and LEAVE when
    /// `acknowledgeMembership` is false; a wrong one gets a `failed` reply
    /// and changes nothing.
    func onCommand(_ id: RequestID, _ command: ClientCommand, acknowledgeMembership: Bool) {
        switch command {
        case .get(_, let quorum), .put(_, _, let quorum, _), .delete(_, let quorum, _):
            if let refusal = ClientCommand.quorumRefusal(quorum, n: n) {
                reply(id, .refused(refusal))
                return
            }
        case .listKeys(let query):
            if let refusal = KeyQuery.limitRefusal(query.limit) {
                reply(id, .refused(refusal))
                return
            }
        default: break
        }
        switch command {
        case .join(let contact):
            if let refusal = joinRefusal(via: contact) {
                reply(id, .refused(refusal))
                return
            }
            join(via: contact)
            if acknowledgeMembership { reply(id, .accepted) }
        case .leave:
            leave()
            if acknowledgeMembership { reply(id, .accepted) }
        case .remove(let member):
            reply(id, remove(member))
        case .getMembers:
            reply(id, .members(view.upMembers))
        case .lookup(let key):
            reply(
                id,
                .replicas(
                    ring.replicas(for: key, n: n).map {
                        ClientReply.Replica(name: $0, address: view.address(of: $0) ?? "")
                    }))
        case .countRecords:
            reply(id, .recordCount(storage.recordCount))
        case .dumpKeys:
            reply(id, .keys(storage.keys()))
        case .get(let key, let quorum):
            guard admit(id) else { return }
            startRead(client: id, key: key, quorum: quorum)
        case .put(let key, let value, let quorum, let context):
            guard admit(id) else { return }
            startPut(client: id, key: key, payload: .value(value), context: context, quorum: quorum)
        case .delete(let key, let quorum, let context):
            guard admit(id) else { return }
            startPut(client: id, key: key, payload: .tombstone, context: context, quorum: quorum)
        case .listKeys(let query):
            guard admit(id) else { return }
            startListing(client: id, query: query)
        }
    }

    /// Refuses a data request when the node is not in a cluster or is full.
    private func admit(_ id: RequestID) -> Bool {
        if !state.membership.isUp(name) || ring.isEmpty {
            reply(id, .failed("node \(name) is not a member of a cluster: send JOIN first", .unavailable))
            return false
        }
        if let contact = state.membership.joinContact {
            reply(id, .failed("node \(name) is still joining through \(contact)", .unavailable))
            return false
        }
        if let refusal = state.membership.joinRefusal {
            reply(id, .failed("node \(name) was refused as a member: \(refusal)", .unavailable))
            return false
        }
        if pendingOperationCount >= config.maxPendingRequests {
            reply(id, .failed("node \(name) is overloaded: \(pendingOperationCount) requests pending", .unavailable))
            return false
        }
        return true
    }

    /// The first `count` nodes of `list` that are not suspected, in one
    /// array of the right size (this runs for every read).
    func healthy(_ list: [String], count: Int) -> [String] {
        var chosen: [String] = []
        chosen.reserveCapacity(count)
        for peer in list where chosen.count < count && !isSuspected(peer) {
            chosen.append(peer)
        }
        return chosen
    }

    // MARK: - Reads

    func startRead(client: RequestID, key: Key, quorum: Int) {
        let preference = ring.preferenceList(for: key)
        let targets = healthy(preference, count: n)
        var op = ReadOperation(
            client: client, key: key, quorum: quorum,
            replicas: Array(preference.prefix(n)),
            candidates: preference.kept { !targets.contains($0) && !isSuspected($0) },
            pending: [], deadline: now + config.operationDeadline)
        let id = newOp()
        op.pending.reserveCapacity(targets.count)
        for target in targets where target != name {
            op.pending.append(target)
            send(.read(op: id, key: key), to: target)
        }
        state.coordinator[read: id] = op
        if targets.contains(name) {
            onReadReply(id, from: name, storage.record(for: key)?.siblings ?? SiblingSet())
        }
        if state.coordinator[read: id] != nil {
            setTimer(.operation(id), after: config.requestTimeout)
        }
    }

    /// Answers the client once the quorum has replied, and ends the read
    /// once every asked node has; the operation is changed in place.
    func onReadReply(_ id: UInt64, from peer: String, _ siblings: SiblingSet) {
        guard let progress = state.coordinator[read: id]?.record(siblings, from: peer) else { return }
        if let answer = progress.answer {
            reply(answer.client, .versions(ReadResult(answer.merged)))
        }
        if progress.isComplete {
            finishRead(id)
        }
    }

    /// A read's waiting time is up: suspect the silent nodes and ask the next
    /// stand-ins if the quorum is still missing.
    func onReadTimeout(_ id: UInt64) {
        guard var op = state.coordinator[read: id] else { return }
        let silent = op.pending
        op.pending = []
        for peer in silent { suspect(peer) }
        if !op.answered && now < op.deadline {
            op.candidates.removeAll { isSuspected($0) }
            let more = Array(op.candidates.prefix(op.quorum - op.replies.count))
            op.candidates.removeFirst(more.count)
            for peer in more where peer != name {
                op.pending.append(peer)
                send(.read(op: id, key: op.key), to: peer)
            }
            state.coordinator[read: id] = op
            if more.contains(name) {
                onReadReply(id, from: name, storage.record(for: op.key)?.siblings ?? SiblingSet())
            }
            guard let current = state.coordinator[read: id] else { return }
            if !current.pending.isEmpty {
                setTimer(.operation(id), after: config.requestTimeout)
                return
            }
        } else {
            state.coordinator[read: id] = op
        }
        finishRead(id)
    }

    /// Ends a read: answers with an error if the quorum was never reached, and
    /// repairs every replica whose reply lacks part of the merged result
    /// (Dynamo §5 "read repair"), after the client has its answer.
    private func finishRead(_ id: UInt64) {
        guard let op = state.coordinator[read: id] else { return }
        state.coordinator[read: id] = nil
        cancelTimer(.operation(id))
        if !op.answered {
            reply(
                op.client,
                .failed(
                    "read quorum not reached for '\(op.key)': \(op.replies.count) of \(op.quorum) replied", .unavailable
                ))
        }
        let merged = op.merged
        guard !merged.isEmpty else { return }
        let stale = op.replies.filter { op.replicas.contains($0.peer) && $0.siblings != merged }
        if !stale.isEmpty { observe(.readRepaired(key: op.key, replicas: stale.count)) }
        for reply in stale {
            if reply.peer == name {
                // The read began under an older ring, perhaps: a node that is
                // no longer the key's replica passes the repaired copy on.
                store(merged, for: op.key)
                passOnIfNotReplica(op.key)
            } else {
                send(.repair(key: op.key, siblings: merged), to: reply.peer)
            }
        }
    }

    // MARK: - Writes

    /// A client write: coordinated here if this node is a replica, otherwise
    /// forwarded to a replica (Dynamo §4.5), at most once.
    ///
    /// Forwarding has two phases. The forwarder offers the operation
    /// (`forwardOffer`, only its id) to the first healthy replica it has not
    /// tried; a replica that is there answers `forwardReady` and keeps nothing.
    /// Only then does the forwarder send the write itself (`forwardPut`),
    /// exactly once per operation, and it never turns to another replica after
    /// that: without a result within `forwardResultTimeout` it tells the client
    /// the write may still be applied. An offer that goes unanswered within
    /// the request timeout costs nothing: the replica is suspected and the
    /// next one gets an offer. A late `forwardReady` (the network held the
    /// offer or the answer: TCP delivers what it accepted, minutes later if a
    /// link was blackholed) for an operation that has moved on to another
    /// replica, has ended, or belongs to an earlier life of this node (op ids
    /// start in a fresh range after a restart) is ignored, so it can at worst
    /// make a replica say "ready" to no one. No deadline travels: whether a
    /// forward is stale is decided by the forwarder's own state, clock-free.
    /// The replica in turn coordinates a `forwardPut` at most once per
    /// (forwarder address, op) (`ForwardLedger`), against a network that
    /// delivers a message twice.
    func startPut(client: RequestID, key: Key, payload: Payload, context: VersionVector?, quorum: Int) {
        if ring.isReplica(name, of: key, n: n) {
            coordinateWrite(key: key, payload: payload, context: context, quorum: quorum, origin: .client(client))
            return
        }
        let op = ForwardOperation(
            client: client, key: key, payload: payload, context: context, quorum: quorum, target: "", tried: [])
        let id = newOp()
        state.coordinator[forward: id] = op
        offerToNextReplica(id)
    }

    /// Offers a forwarded write to the next healthy replica, or coordinates it
    /// here when no replica is left to try (no offer was ever taken up, so no
    /// replica runs it).
    private func offerToNextReplica(_ id: UInt64) {
        guard var op = state.coordinator[forward: id] else { return }
        let replicas = ring.replicas(for: op.key, n: n)
        guard let target = replicas.first(where: { !isSuspected($0) && !op.tried.contains($0) && $0 != name })
        else {
            state.coordinator[forward: id] = nil
            coordinateWrite(
                key: op.key, payload: op.payload, context: op.context, quorum: op.quorum, origin: .client(op.client))
            return
        }
        op.target = target
        op.tried.append(target)
        state.coordinator[forward: id] = op
        send(.forwardOffer(op: id), to: target)
        setTimer(.operation(id), after: config.requestTimeout)
    }

    /// The replica offered the operation is there: hand it the write, once.
    /// Readiness from any other node, or for an operation handed over,
    /// ended or unknown, is ignored.
    func onForwardReady(_ id: UInt64, from peer: String, address: Address) {
        guard var op = state.coordinator[forward: id], !op.handedOver, op.target == peer else { return }
        op.handedOver = true
        state.coordinator[forward: id] = op
        send(
            .forwardPut(op: id, key: op.key, payload: op.payload, context: op.context, quorum: op.quorum),
            toAddress: address)
        setTimer(.operation(id), after: config.forwardResultTimeout)
    }

    func onForwardResult(_ id: UInt64, _ outcome: WriteOutcome) {
        guard let op = state.coordinator[forward: id] else { return }
        state.coordinator[forward: id] = nil
        cancelTimer(.operation(id))
        switch outcome {
        case .written(let metadata, let siblings):
            reply(op.client, .written(metadata: metadata, siblings: siblings))
        case .failed(let reason, let failure):
            reply(op.client, .failed(reason, failure))
        }
    }

    func onForwardTimeout(_ id: UInt64) {
        guard let op = state.coordinator[forward: id] else { return }
        if op.handedOver {
            state.coordinator[forward: id] = nil
            reply(
                op.client,
                .failed(
                    "write of '\(op.key)' timed out at coordinator \(op.target); it may still be applied", .unavailable)
            )
        } else {
            suspect(op.target)
            offerToNextReplica(id)
        }
    }

    /// Coordinates a write (Dynamo §4.5–4.6): a new version with a fresh dot
    /// is stored here, then the whole record goes to every healthy replica and
    /// to stand-ins (with hints) for the others.
    func coordinateWrite(key: Key, payload: Payload, context: VersionVector?, quorum: Int, origin: WriteOrigin) {
        let policy = MergePolicy.forKey(key)
        var record = storage.record(for: key) ?? StoredRecord(siblings: SiblingSet())
        let actor = record.ownActor ?? "\(name).\(storage.nextEpoch())"
        let highest = max(record.siblings.maxCounter(of: actor), context?.maxCounter(of: actor) ?? 0)
        let dot = Dot(actor: actor, counter: highest + 1)
        let version = policy.newVersion(dot: dot, context: context, payload: payload, local: record.siblings)
        let before = record.siblings.versions.count
        record.siblings.add([version], policy: policy)
        if let refusal = config.siblings.refusal(key: key, before: before, after: record.siblings.versions.count) {
            answerWrite(origin, .failed(reason: refusal, failure: .conflict))
            return
        }
        record.ownActor = actor
        putRecord(record, for: key)

        let preference = ring.preferenceList(for: key)
        let replicas = Array(preference.prefix(n))
        var op = WriteOperation(
            origin: origin, key: key, quorum: quorum, siblings: record.siblings, metadata: version.metadata,
            slots: [], candidates: preference.dropFirst(n).kept { $0 != name && !isSuspected($0) },
            deadline: now + config.operationDeadline)
        op.slots.reserveCapacity(replicas.count)
        let standingIn = !replicas.contains(name)
        var selfPlaced = false
        for replica in replicas {
            if replica == name {
                op.slots.append(WriteSlot(replica: replica, holder: name, state: .stored))
            } else if !isSuspected(replica) {
                op.slots.append(WriteSlot(replica: replica, holder: replica, state: .pending))
            } else if standingIn && !selfPlaced {
                selfPlaced = true
                addHint(target: replica, key: key)
                op.slots.append(WriteSlot(replica: replica, holder: name, state: .stored))
            } else if let standIn = op.candidates.first {
                op.candidates.removeFirst()
                op.slots.append(WriteSlot(replica: replica, holder: standIn, state: .pending))
            } else {
                addHint(target: replica, key: key)
                op.slots.append(WriteSlot(replica: replica, holder: name, state: .hintedLocally))
            }
        }
        let id = newOp()
        for slot in op.slots where slot.state == .pending {
            send(
                .write(
                    op: id, key: key, siblings: op.siblings, hintFor: slot.holder == slot.replica ? nil : slot.replica),
                to: slot.holder)
        }
        state.coordinator[write: id] = op
        progressWrite(id)
        if state.coordinator[write: id] != nil {
            setTimer(.operation(id), after: config.requestTimeout)
        }
    }

    func onWriteAck(_ id: UInt64, from peer: String) {
        guard state.coordinator[write: id]?.acknowledge(from: peer) == true else { return }
        progressWrite(id)
    }

    /// Copies that did not arrive in time move on to the next stand-in; with
    /// none left, the coordinator keeps a hint for the replica itself.
    func onWriteTimeout(_ id: UInt64) {
        guard var op = state.coordinator[write: id] else { return }
        let pastDeadline = now >= op.deadline
        for i in op.slots.indices where op.slots[i].state == .pending {
            suspect(op.slots[i].holder)
            op.candidates.removeAll { isSuspected($0) }
            if !pastDeadline, let standIn = op.candidates.first {
                op.candidates.removeFirst()
                op.slots[i].holder = standIn
                send(.write(op: id, key: op.key, siblings: op.siblings, hintFor: op.slots[i].replica), to: standIn)
            } else {
                op.slots[i].holder = name
                op.slots[i].state = .hintedLocally
                addHint(target: op.slots[i].replica, key: op.key)
            }
        }
        state.coordinator[write: id] = op
        progressWrite(id)
        if state.coordinator[write: id] != nil {
            setTimer(.operation(id), after: config.requestTimeout)
        }
    }

    /// Answers once the quorum has stored the write; ends the operation once
    /// every copy is placed.
    private func progressWrite(_ id: UInt64) {
        guard var op = state.coordinator[write: id] else { return }
        if !op.answered && op.stored >= op.quorum {
            op.answered = true
            answerWrite(op.origin, .written(metadata: op.metadata, siblings: op.siblings.versions.count))
        }
        guard op.isSettled else {
            state.coordinator[write: id] = op
            return
        }
        state.coordinator[write: id] = nil
        cancelTimer(.operation(id))
        if !op.answered {
            answerWrite(
                op.origin,
                .failed(
                    reason: "write quorum not reached for '\(op.key)': \(op.stored) of \(op.quorum) stored",
                    failure: .unavailable))
        }
        dropIfNotResponsible(op.key)
    }

    private func answerWrite(_ origin: WriteOrigin, _ outcome: WriteOutcome) {
        switch origin {
        case .client(let id):
            switch outcome {
            case .written(let metadata, let siblings): reply(id, .written(metadata: metadata, siblings: siblings))
            case .failed(let reason, let failure): reply(id, .failed(reason, failure))
            }
        case .forwarded(let address, let op):
            send(.forwardResult(op: op, outcome: outcome), toAddress: address)
        }
    }
}

extension Collection {
    /// The elements `isIncluded` keeps, as `filter` gives them, in an array
    /// allocated once for all of them: `filter` grows its result as it goes,
    /// allocating up to three times for the few peers of a preference list.
    fileprivate func kept(where isIncluded: (Element) -> Bool) -> [Element] {
        var kept: [Element] = []
        kept.reserveCapacity(count)
        for element in self where isIncluded(element) { kept.append(element) }
        return kept
    }
}
