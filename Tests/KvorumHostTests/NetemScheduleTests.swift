import XCTest

@testable import kvorum_chaos

/// The relay's per-packet decisions, without a device: same seed, same
/// decisions; each knob does what it says, at about its rate.
final class NetemScheduleTests: XCTestCase {
    private let draws = 10_000

    private func fates(_ parameters: NetemParameters, seed: UInt64 = 42, count: Int? = nil) -> [PacketFate] {
        var schedule = NetemSchedule(parameters: parameters, seed: seed)
        return (0..<(count ?? draws)).map { _ in schedule.nextFate() }
    }

    private func delays(_ fates: [PacketFate]) -> [Duration] {
        fates.flatMap { fate -> [Duration] in
            if case .deliver(let delays) = fate { return delays }
            return []
        }
    }

    func testSameSeedSameDecisionsAnotherSeedOthers() {
        let parameters = NetemParameters(
            delay: .milliseconds(20), jitter: .milliseconds(10), loss: 0.2, duplicate: 0.2, reorder: 0.2)
        XCTAssertEqual(fates(parameters, count: 200), fates(parameters, count: 200))
        XCTAssertNotEqual(fates(parameters, count: 200), fates(parameters, seed: 43, count: 200))
    }

    func testNoFaultsDeliversEveryPacketOnceAfterTheDelay() {
        let delay = Duration.milliseconds(25)
        XCTAssertEqual(fates(NetemParameters(delay: delay)), Array(repeating: .deliver([delay]), count: draws))
    }

    func testLossOneDropsEverythingAndLossZeroNothing() {
        XCTAssertEqual(fates(NetemParameters(loss: 1)), Array(repeating: .drop, count: draws))
        XCTAssertFalse(fates(NetemParameters(loss: 0, duplicate: 0.5)).contains(.drop))
    }

    func testLossDropsAboutItsShare() {
        let dropped = fates(NetemParameters(loss: 0.3)).filter { $0 == .drop }.count
        XCTAssertEqual(Double(dropped) / Double(draws), 0.3, accuracy: 0.02)
    }

    func testDuplicateOneSendsEveryPacketTwiceEachCopyWithItsOwnDelay() {
        let all = fates(NetemParameters(delay: .milliseconds(5), jitter: .milliseconds(10), duplicate: 1))
        let copies = all.map { fate -> [Duration] in
            guard case .deliver(let delays) = fate else { return [] }
            return delays
        }
        XCTAssertTrue(copies.allSatisfy { $0.count == 2 })
        XCTAssertTrue(copies.contains { $0[0] != $0[1] })
    }

    func testDuplicateSendsAboutItsShareTwice() {
        let twice = fates(NetemParameters(duplicate: 0.25)).filter { $0 == .deliver([.zero, .zero]) }.count
        XCTAssertEqual(Double(twice) / Double(draws), 0.25, accuracy: 0.02)
    }

    func testJitterSpreadsDelaysUniformlyAboveTheDelay() {
        let delay = Duration.milliseconds(50)
        let jitter = Duration.milliseconds(20)
        let all = delays(fates(NetemParameters(delay: delay, jitter: jitter)))
        XCTAssertTrue(all.allSatisfy { $0 >= delay && $0 < delay + jitter })
        let lowHalf = all.filter { $0 < delay + jitter / 2 }.count
        XCTAssertEqual(Double(lowHalf) / Double(all.count), 0.5, accuracy: 0.02)
    }

    func testReorderHoldsAboutItsShareBackByTheReorderDelay() {
        let delay = Duration.milliseconds(10)
        let held = Duration.milliseconds(30)
        let all = delays(fates(NetemParameters(delay: delay, reorder: 0.1, reorderDelay: held)))
        XCTAssertEqual(Set(all), [delay, delay + held])
        XCTAssertEqual(Double(all.filter { $0 == delay + held }.count) / Double(all.count), 0.1, accuracy: 0.02)
    }

    func testParametersOutsideTheirRangeAreRejected() {
        XCTAssertNil(NetemParameters(delay: .seconds(1), loss: 1, duplicate: 0, reorder: 0.5).problem)
        XCTAssertNotNil(NetemParameters(loss: 1.5).problem)
        XCTAssertNotNil(NetemParameters(duplicate: -0.1).problem)
        XCTAssertNotNil(NetemParameters(reorder: .nan).problem)
        XCTAssertNotNil(NetemParameters(delay: .milliseconds(-1)).problem)
        XCTAssertNotNil(NetemParameters(reorderDelay: .milliseconds(-1)).problem)
    }

    func testTheRelayCommandReadsBackTheParametersItIsGiven() throws {
        // Binary fractions of a second, which the options carry exactly.
        let parameters = NetemParameters(
            delay: .milliseconds(250), jitter: .microseconds(15_625), loss: 0.25, duplicate: 0.5, reorder: 0.125,
            reorderDelay: .microseconds(31_250))
        let command = try RelayCommand.parse(["--device", "kvtest0", "--seed", "7"] + parameters.arguments)
        XCTAssertEqual(command.device, "kvtest0")
        XCTAssertEqual(command.seed, 7)
        XCTAssertEqual(command.parameters, parameters)
        XCTAssertThrowsError(try RelayCommand.parse(["--loss", "2"]))
        XCTAssertThrowsError(try RelayCommand.parse(["--delay", "-1"]))
    }

    func testCountsLineRoundTrips() {
        var counts = NetemCounts()
        counts.received = 12
        counts.relayed = 20
        counts.dropped = 3
        counts.duplicated = 11
        counts.failed = 1
        XCTAssertEqual(NetemCounts(stoppedLine: Substring(counts.stoppedLine)), counts)
        XCTAssertNil(NetemCounts(stoppedLine: "netem relay stopped received=1"))
        XCTAssertNil(NetemCounts(stoppedLine: "netem relay ready device=kvnetem0"))
    }
}
