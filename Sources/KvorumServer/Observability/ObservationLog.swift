import KvorumCore
import Logging

/// Writes the core's observations (`KvorumCore.Observation`) to the node's
/// log, once each, with the facts as metadata fields (docs/operations.md).
///
/// What an operator acts on (membership, suspicion, handoffs, repairs by
/// anti-entropy) is logged at info and above; what happens on every request
/// or every round (a hint stored, a read repaired, a round begun) at debug,
/// where the metrics count it anyway.
struct ObservationLog {
    let logger: Logger

    func record(_ observation: Observation) {
        switch observation {
        case .peerSuspected(let peer):
            logger.warning("peer suspected", metadata: ["peer": "\(peer)"])
        case .peerRecovered(let peer):
            logger.notice("peer recovered", metadata: ["peer": "\(peer)"])
        case .peerDown(let peer):
            logger.error("peer down", metadata: ["peer": "\(peer)"])
        case .peerUp(let peer):
            logger.notice("peer up", metadata: ["peer": "\(peer)"])
        case .readRepaired(let key, let replicas):
            logger.debug("read repair", metadata: ["key": "\(key.text)", "replicas": "\(replicas)"])
        case .hintStored(let target):
            logger.debug("hint stored", metadata: ["target": "\(target)"])
        case .hintsHandedOff(let target, let keys):
            logger.debug("hints handed off", metadata: ["target": "\(target)", "keys": "\(keys)"])
        case .handoffStarted(let target, let keys):
            logger.info("handoff started", metadata: ["target": "\(target)", "keys": "\(keys)"])
        case .handoffFinished(let target):
            logger.info("handoff finished", metadata: ["target": "\(target)"])
        case .antiEntropyRound(let peer):
            logger.debug("anti-entropy round", metadata: ["peer": "\(peer)"])
        case .antiEntropyKeysExchanged(let sent, let requested):
            logger.info(
                "anti-entropy found differing keys", metadata: ["sent": "\(sent)", "requested": "\(requested)"])
        case .antiEntropyRepaired(let keys):
            logger.info("anti-entropy repaired keys", metadata: ["keys": "\(keys)"])
        case .joinAccepted(let name, let address):
            logger.notice("join accepted", metadata: ["member": "\(name)", "address": "\(address)"])
        case .memberLeft(let name, let address):
            logger.notice("left the cluster", metadata: ["member": "\(name)", "address": "\(address)"])
        case .memberRemoved(let name, let address):
            logger.notice("member removed", metadata: ["member": "\(name)", "address": "\(address)"])
        case .viewChanged(let members):
            logger.info("membership changed", metadata: ["members": .array(members.map { "\($0)" })])
        }
    }
}
