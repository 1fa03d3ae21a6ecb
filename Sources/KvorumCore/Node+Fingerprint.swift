extension KvorumNode {
    /// The node's volatile state in canonical text (everything but storage):
    /// two nodes with equal text and equal storage behave identically, up to
    /// operation deadlines, which are left out because they are absolute times
    /// (the model-checked scenarios end long before any deadline). The model
    /// checker hashes it to recognise states it has already explored.
    public var volatileDescription: String {
        var out = "view \(view.digest) next \(nextOp) seq \(hintSequence) ae \(antiEntropyRounds)"
        out += " vx \(viewExchangeRounds)\n"
        out += "suspects \(suspects.sorted(by: byteOrder))\n"
        out += "timers \(armedTimers.sorted(by: byteOrder))\n"
        out += "join \(joinContact ?? "-")\n"
        for peer in pushedDigest.keys.sorted(by: byteOrder) { out += "pushed \(peer) \(pushedDigest[peer]!)\n" }
        for target in hints.keys.sorted(by: byteOrder) {
            for key in hints[target]!.keys.sorted(by: byteOrder) {
                out += "hint \(target) \(key) \(hints[target]![key]!)\n"
            }
        }
        for batch in handoffsInFlight.keys.sorted() {
            let flight = handoffsInFlight[batch]!
            out += "flight \(batch) \(flight.target) \(flight.keys.map { "\($0.0)#\($0.1)" })\n"
        }
        for op in reads.keys.sorted() {
            let read = reads[op]!
            out += "read \(op) \(read.client) \(read.key) q\(read.quorum) pending \(read.pending) "
            out +=
                "replied \(read.replies.map { "\($0.peer)=\($0.siblings.metadata)" }) answered \(read.answered)\n"
        }
        for op in writes.keys.sorted() {
            let write = writes[op]!
            out +=
                "write \(op) \(write.origin) \(write.key) q\(write.quorum) \(write.metadata) answered \(write.answered) "
            out +=
                "slots \(write.slots.map { "\($0.replica)>\($0.holder):\($0.state)" }) candidates \(write.candidates)\n"
        }
        for op in forwards.keys.sorted() {
            let forward = forwards[op]!
            out +=
                "forward \(op) \(forward.client) \(forward.key) \(forward.target) \(forward.tried) \(forward.handedOver)\n"
        }
        for entry in executedForwards.entries { out += "executed \(entry.forwarder) \(entry.op)\n" }
        return out
    }
}
