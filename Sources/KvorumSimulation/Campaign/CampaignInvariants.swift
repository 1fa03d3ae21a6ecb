import KvorumCore

/// The properties a campaign checks once the cluster has healed. Each
/// returns the violations it found, each with a readable explanation; none
/// changes the simulation except `ringAgreement`, which asks nodes (LOOKUP,
/// GET_MEMBERS) and so steps events.
///
/// Stores are read directly (`Simulation.storage(of:)`), not through GETs,
/// so that a check never repairs what it checks. A key's replicas are those
/// of the final ring, `Ring(members:)` over the members the model expects.
public enum CampaignInvariants {
    /// Replicas per key (docs/protocol.md).
    public static let replicationFactor = 3

    /// What a node stores for a key (empty when it holds no record).
    static func stored(_ sim: Simulation, _ node: String, _ key: String) -> SiblingSet {
        sim.storage(of: node).record(for: Key(key))?.siblings ?? SiblingSet()
    }

    static func liveReplicas(_ key: String, ring: Ring, sim: Simulation) -> [String] {
        ring.replicas(for: Key(key), n: replicationFactor).filter { sim.isUp($0) }
    }

    /// No acknowledged write lost: for every write that got a `PUT_RESP`, every
    /// live replica of its key holds its version (same dot), or a version
    /// whose history covers its dot. A dotted covering version must be a
    /// write (or delete) the model knows whose client's context covers the
    /// dot (it was written after reading the lost one); a merged cart version
    /// (no dot) covers by its past, and the cart check vouches for its items.
    /// A replica may hold nothing only when the write was a delete, or a
    /// delete the model knows covered its dot: the tombstone was reaped.
    public static func noAcknowledgedWriteLost(model: CampaignModel, sim: Simulation, ring: Ring)
        -> [CampaignViolation]
    {
        var found: [CampaignViolation] = []
        for write in model.acknowledgedWrites {
            let dot = write.acknowledged!.dot
            let deleted =
                write.kind == .delete
                || model.writes.contains { $0.kind == .delete && $0.key == write.key && $0.context.covers(dot) }
            for replica in liveReplicas(write.key, ring: ring, sim: sim) {
                let siblings = stored(sim, replica, write.key)
                if siblings.versions.contains(where: { $0.dot == dot }) { continue }
                if siblings.isEmpty && deleted { continue }
                let covering = siblings.versions.filter { $0.history.covers(dot) }
                let justified = covering.contains { version in
                    guard version.dot != nil else { return true }
                    return model.writer(of: version, key: write.key)?.context.covers(dot) ?? false
                }
                if justified { continue }
                var message = "\(replica) (replica of \(write.key)) lost \(write.summary): it holds "
                message += siblings.summary
                if !covering.isEmpty {
                    message += "; the versions covering dot \(dot.text) were not written by a client that read it"
                }
                found.append(CampaignViolation("lost-write", message))
            }
        }
        return found
    }

    /// Convergence: all live replicas of every key hold identical sibling
    /// sets; tombstones alone count as nothing (a replica may have reaped
    /// them before another).
    public static func convergence(model: CampaignModel, sim: Simulation, ring: Ring) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        for key in model.keys {
            let replicas = liveReplicas(key, ring: ring, sim: sim)
            let sets = replicas.map { stored(sim, $0, key) }.map { $0.isDeleted ? SiblingSet() : $0 }
            guard let first = sets.first, sets.contains(where: { $0 != first }) else { continue }
            let held = zip(replicas, sets).map { "\($0) holds \($1.summary)" }
            found.append(
                CampaignViolation("convergence", "replicas of \(key) differ: " + held.joined(separator: "; ")))
        }
        return found
    }

    /// No false siblings: two versions stored together at any node (replica
    /// or stand-in) are truly concurrent in the model, i.e. neither write's
    /// client context covers the other's dot. Only pairs whose writes the
    /// model knows (by their unique values) are judged.
    public static func noFalseSiblings(model: CampaignModel, sim: Simulation) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        for node in sim.nodeNames {
            for key in model.keys {
                let versions = stored(sim, node, key).versions
                for i in versions.indices {
                    for j in versions.indices where i != j {
                        let (newer, older) = (versions[i], versions[j])
                        guard let olderDot = older.dot, newer.dot != nil,
                            let writer = model.writer(of: newer, key: key),
                            model.writer(of: older, key: key) != nil,
                            writer.context.covers(olderDot)
                        else { continue }
                        found.append(
                            CampaignViolation(
                                "false-siblings",
                                "\(node) keeps \"\(older.value)\"@\(older.metadata) beside \"\(newer.value)\"@"
                                    + "\(newer.metadata) for \(key), but \(writer.summary): its context covers "
                                    + "\(olderDot.text)"))
                    }
                }
            }
        }
        return found
    }

    /// Carts: every item added by an acknowledged write to a cart key is in
    /// the merged value (the union of the siblings' items) at every live replica.
    public static func cartItemsKept(model: CampaignModel, sim: Simulation, ring: Ring) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        for write in model.acknowledgedWrites {
            guard let item = write.item else { continue }
            for replica in liveReplicas(write.key, ring: ring, sim: sim) {
                let siblings = stored(sim, replica, write.key)
                let items = Set(siblings.values.flatMap(CartMerge.items))
                if items.contains(item) { continue }
                found.append(
                    CampaignViolation(
                        "cart",
                        "\(replica) (replica of \(write.key)) lacks item \(item) of \(write.summary): it holds "
                            + siblings.summary))
            }
        }
        return found
    }

    /// Unique dots: no two acknowledged writes got the same dot, and no dot
    /// names two different values of a key anywhere in the stores.
    public static func uniqueDots(model: CampaignModel, sim: Simulation) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        var acknowledgedBy: [String: CampaignModel.Write] = [:]
        for write in model.acknowledgedWrites {
            let name = write.key + " " + write.acknowledged!.dot.text
            if let other = acknowledgedBy[name] {
                found.append(
                    CampaignViolation(
                        "unique-dots", "two writes acknowledged with one dot: \(other.summary); \(write.summary)"))
            } else {
                acknowledgedBy[name] = write
            }
        }
        var valueOf: [String: (value: String, node: String)] = [:]
        for node in sim.nodeNames {
            for key in model.keys {
                for version in stored(sim, node, key).versions {
                    guard let dot = version.dot else { continue }
                    let name = key + " " + dot.text
                    if let seen = valueOf[name], seen.value != version.value {
                        found.append(
                            CampaignViolation(
                                "unique-dots",
                                "dot \(dot.text) of \(key) names \"\(seen.value)\" at \(seen.node) but "
                                    + "\"\(version.value)\" at \(node)"))
                    } else {
                        valueOf[name] = (version.value, node)
                    }
                }
            }
        }
        return found
    }

    /// At most once: every client write's value is unique in a campaign, so
    /// one value stored under two different dots, at one node or two, means
    /// the write was executed twice (e.g. a forwarded PUT coordinated by two
    /// replicas). Merged versions (no dot) are not judged.
    public static func atMostOnce(model: CampaignModel, sim: Simulation) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        var firstSeen: [String: (dot: Dot, node: String)] = [:]
        var reported: Set<String> = []
        for node in sim.nodeNames {
            for key in model.keys {
                for version in stored(sim, node, key).versions where !version.isTombstone {
                    guard let dot = version.dot else { continue }
                    let name = key + "\u{0}" + version.value
                    guard let seen = firstSeen[name] else {
                        firstSeen[name] = (dot, node)
                        continue
                    }
                    guard seen.dot != dot, reported.insert(name + "\u{0}" + dot.text).inserted else { continue }
                    let writer = model.write(withValue: version.value).map { " (\($0.summary))" } ?? ""
                    found.append(
                        CampaignViolation(
                            "at-most-once",
                            "\"\(version.value)\" of \(key) was written twice: as \(seen.dot.text) at \(seen.node) "
                                + "and as \(dot.text) at \(node)" + writer))
                }
            }
        }
        return found
    }

    /// No resurrection: a version whose dot the context of an acknowledged
    /// delete covers is superseded by that delete's tombstone, and once the
    /// cluster has healed no node holds it live, the tombstone reaped or not:
    /// no replica, no stand-in, and no node that left (it passes on what it
    /// is sent after leaving). A write concurrent with the delete carries its
    /// own dot, so what it kept alive is never mistaken for a comeback.
    public static func noResurrection(model: CampaignModel, sim: Simulation) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        for delete in model.acknowledgedDeletes {
            for node in sim.nodeNames {
                for version in stored(sim, node, delete.key).versions where !version.isTombstone {
                    guard let dot = version.dot, delete.context.covers(dot) else { continue }
                    let writer = model.writer(of: version, key: delete.key).map { " (\($0.summary))" } ?? ""
                    found.append(
                        CampaignViolation(
                            "resurrection",
                            "\(node) holds \"\(version.value)\"@\(version.metadata) of \(delete.key)\(writer), "
                                + "which \(delete.summary) deleted"))
                }
            }
        }
        return found
    }

    /// Ring: after every JOIN and LEAVE, the ring over the expected members
    /// gives every key (the workload's and the probes) exactly 3 distinct
    /// replicas, all of them members.
    public static func ringPlacement(model: CampaignModel, probeKeys: [String], partitionCount: Int = 4096)
        -> [CampaignViolation]
    {
        var found: [CampaignViolation] = []
        for change in model.membershipChanges {
            let ring = Ring(members: change.members, partitionCount: partitionCount)
            for key in model.keys + probeKeys {
                let replicas = ring.replicas(for: Key(key), n: replicationFactor)
                guard Set(replicas).count != replicationFactor || !replicas.allSatisfy(change.members.contains)
                else { continue }
                found.append(
                    CampaignViolation(
                        "ring",
                        "after \(change.description) at \(TraceFormat.seconds(change.at)) s, members "
                            + "\(change.members): \(key) has replicas \(replicas)"))
            }
        }
        return found
    }

    /// Ring agreement after healing: every member lists exactly the expected
    /// members (GET_MEMBERS), and its LOOKUP of every key names the replicas
    /// of the final ring, in order.
    public static func ringAgreement(
        model: CampaignModel, sim: Simulation, probeKeys: [String], partitionCount: Int = 4096
    ) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        let ring = Ring(members: model.members, partitionCount: partitionCount)
        for member in model.members {
            let listed = sim.members(at: member)
            if listed.map({ Set($0) }) != Set(model.members) {
                found.append(
                    CampaignViolation(
                        "ring",
                        "\(member) lists members \(listed.map { "\($0)" } ?? "nothing"), expected \(model.members)"
                    ))
                continue
            }
            for key in model.keys + probeKeys {
                let expected = ring.replicas(for: Key(key), n: replicationFactor)
                let answer = sim.lookup(key, at: member)
                if answer != expected {
                    found.append(
                        CampaignViolation(
                            "ring",
                            "LOOKUP \(key) at \(member) gives \(answer.map { "\($0)" } ?? "no answer"), "
                                + "the final ring \(expected)"))
                }
            }
        }
        return found
    }

    /// Listing after healing: a member pages through every key (two per
    /// page, so the cursor is used) and gets exactly the workload keys whose
    /// replicas hold a live version, in byte order, each once; deleted keys
    /// (tombstones only, or reaped) are left out.
    public static func listing(model: CampaignModel, sim: Simulation, ring: Ring) -> [CampaignViolation] {
        guard let member = model.members.first else { return [] }
        let expected = model.keys.map { Key($0) }.filter { key in
            liveReplicas(key.text, ring: ring, sim: sim).contains { node in
                let siblings = stored(sim, node, key.text)
                return !siblings.isEmpty && !siblings.isDeleted
            }
        }.sorted()
        var listed: [Key] = []
        var after: Key?
        for _ in 0...expected.count {
            let request = ClientRequest(.listKeys(KeyQuery(after: after, limit: 2)))
            guard let response = sim.request(request, at: member, timeLimit: 10),
                case .keyPage(let page)? = try? ClientReply(seed: response)
            else {
                return [CampaignViolation("listing", "LIST_KEYS at \(member) after \(after.map(\.text) ?? "-") failed")]
            }
            listed += page.keys
            guard let next = page.next else { break }
            after = next
        }
        guard listed != expected else { return [] }
        return [
            CampaignViolation(
                "listing",
                "\(member) lists \(listed.map(\.text)), but the replicas hold live \(expected.map(\.text))")
        ]
    }

    /// Liveness: every client request got exactly one reply, unless its node
    /// crashed before answering (a crash loses the requests in hand), and no
    /// node ever replied to a request it was not asked.
    public static func liveness(model: CampaignModel, sim: Simulation) -> [CampaignViolation] {
        var found: [CampaignViolation] = []
        var replyCounts: [String: [RequestID: Int]] = [:]
        for node in sim.nodeNames {
            replyCounts[node] = sim.replies(of: node).reduce(into: [:]) { $0[$1.id, default: 0] += 1 }
        }
        for request in model.requests {
            let count = replyCounts[request.node]?[request.id] ?? 0
            let crashedSince = model.crashes[request.node, default: 0] != request.life
            if count == 1 || (count == 0 && crashedSince) { continue }
            found.append(
                CampaignViolation(
                    "liveness",
                    "\(request.type) #\(request.id) sent to \(request.node) at \(TraceFormat.seconds(request.sentAt)) s "
                        + "got \(count) replies"))
        }
        if sim.unexpectedReplies != 0 {
            found.append(
                CampaignViolation("liveness", "\(sim.unexpectedReplies) replies to requests that were not open"))
        }
        return found
    }
}
