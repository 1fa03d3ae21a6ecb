import Foundation

/// A relay with its routing on one host: what the kit starts to put faults on
/// the host's packets for some peers, and stops to take them off.
///
/// `start` runs the relay, waits for its device and installs the link; if
/// the install fails, the relay is stopped again before the error is thrown.
/// `stop` removes the link first (so nothing is routed into a vanishing
/// device), then stops the relay, and reports the first failure of the two
/// after attempting both.
final class NetemHostRelay: Sendable {
    /// The routing through the relay (`withdraw(peers:)` takes single peers off).
    let link: NetemLink
    private let relay: NetemRelayProcess

    private init(link: NetemLink, relay: NetemRelayProcess) {
        self.link = link
        self.relay = relay
    }

    /// Starts a relay with `parameters` in `namespace` and routes the host's
    /// packets for `peers` through it. Two relays in one namespace need
    /// their own `device` and `table`.
    static func start(
        namespace: String, ownAddress: String, peers: [String], parameters: NetemParameters, seed: UInt64,
        device: String = "kvnetem0", table: Int = 7_700, executable: URL = NetemRelayProcess.currentExecutable
    ) throws -> NetemHostRelay {
        let relay = try NetemRelayProcess.start(
            executable: executable, namespace: namespace, device: device, parameters: parameters, seed: seed)
        var link = NetemLink(namespace: namespace, device: relay.device, ownAddress: ownAddress)
        link.table = table
        do {
            try link.install(peers: peers)
        } catch {
            _ = try? link.remove()
            _ = try? relay.stop()
            throw error
        }
        return NetemHostRelay(link: link, relay: relay)
    }

    /// Restores direct routing, stops the relay and returns what it did.
    func stop() throws -> NetemCounts {
        let removal = Result { try link.remove() }
        let counts = Result { try relay.stop() }
        try removal.get()
        return try counts.get()
    }
}
