import KvorumCore
import Logging

/// Writes the core's observations (`KvorumCore.Observation`) to the node's
/// log, once each, with the facts as metadata fields (docs/operations.md).
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
        }
    }
}
