import Foundation

/// The running relay: one thread reads packets from the device and asks the
/// schedule for their fate; one thread writes each copy back at its due time.
/// Both share one lock, which also guards the counts.
final class NetemRelayEngine: @unchecked Sendable {
    private typealias Instant = ContinuousClock.Instant

    /// The largest IP packet (a TUN device without offloads never returns more).
    private static let bufferSize = 65_536

    private let device: NetemTunDevice
    private let clock = ContinuousClock()
    private let condition = NSCondition()
    private var schedule: NetemSchedule
    private var queue = NetemDueQueue<Instant, [UInt8]>()
    private var counts = NetemCounts()
    private var draining = false
    private var drained = false

    init(device: NetemTunDevice, schedule: NetemSchedule) {
        self.device = device
        self.schedule = schedule
    }

    /// Starts the reader and the writer.
    func start() {
        Thread.detachNewThread { self.readLoop() }
        Thread.detachNewThread { self.writeLoop() }
    }

    /// Stops relaying: packets read from now on are ignored and every queued
    /// copy is written at once, early, so that a connection loses nothing
    /// the relay held. Waits at most `patience` for that and returns the counts.
    func stop(patience: Duration) -> NetemCounts {
        condition.lock()
        defer { condition.unlock() }
        draining = true
        condition.broadcast()
        let deadline = Date() + patience / .seconds(1)
        while !drained, condition.wait(until: deadline) {}
        return counts
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        while true {
            let packet: ArraySlice<UInt8>
            do {
                packet = try device.read(into: &buffer)
            } catch {
                FileHandle.standardError.write(Data("kvorum-chaos relay: \(error)\n".utf8))
                exit(EXIT_FAILURE)
            }
            let now = clock.now
            condition.lock()
            if !draining { enqueue(Array(packet), readAt: now) }
            condition.unlock()
        }
    }

    /// Decides `packet`'s fate and queues its copies; called with the lock held.
    private func enqueue(_ packet: [UInt8], readAt now: Instant) {
        counts.received += 1
        switch schedule.nextFate() {
        case .drop:
            counts.dropped += 1
        case .deliver(let delays):
            if delays.count > 1 { counts.duplicated += 1 }
            let earliest = queue.nextDue
            for delay in delays { queue.insert(packet, due: now + delay) }
            // The writer sleeps until the earliest due time; wake it only if that moved.
            if let due = queue.nextDue, earliest.map({ due < $0 }) ?? true { condition.signal() }
        }
    }

    private func writeLoop() {
        condition.lock()
        defer { condition.unlock() }
        while !draining {
            if let packet = queue.popDue(now: clock.now) {
                write(packet)
            } else if let due = queue.nextDue {
                _ = condition.wait(until: Date() + (due - clock.now) / .seconds(1))
            } else {
                condition.wait()
            }
        }
        for packet in queue.popAll() { write(packet) }
        drained = true
        condition.broadcast()
    }

    /// Writes one copy without holding the lock; called with the lock held.
    private func write(_ packet: [UInt8]) {
        condition.unlock()
        let written = device.write(packet)
        condition.lock()
        if written { counts.relayed += 1 } else { counts.failed += 1 }
    }
}
