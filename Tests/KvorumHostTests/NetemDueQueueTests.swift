import KvorumBench
import KvorumCore
import XCTest

@testable import kvorum_chaos

/// The relay's queue of packets waiting for their due time.
final class NetemDueQueueTests: XCTestCase {
    func testItemsLeaveInDueOrderAndOnlyOnceDue() {
        var queue = NetemDueQueue<Int, String>()
        for (item, due) in [("c", 30), ("a", 10), ("d", 40), ("b", 20)] { queue.insert(item, due: due) }
        XCTAssertEqual(queue.nextDue, 10)
        XCTAssertNil(queue.popDue(now: 9))
        XCTAssertEqual(queue.popDue(now: 25), "a")
        XCTAssertEqual(queue.popDue(now: 25), "b")
        XCTAssertNil(queue.popDue(now: 25))
        XCTAssertEqual(queue.count, 2)
        XCTAssertEqual(queue.popDue(now: 100), "c")
        XCTAssertEqual(queue.popDue(now: 100), "d")
        XCTAssertNil(queue.nextDue)
    }

    func testItemsDueTogetherLeaveInArrivalOrder() {
        var queue = NetemDueQueue<Int, Int>()
        for item in 0..<50 { queue.insert(item, due: item % 2 == 0 ? 5 : 3) }
        let odd = Array(stride(from: 1, to: 50, by: 2))
        let even = Array(stride(from: 0, to: 50, by: 2))
        XCTAssertEqual(queue.popAll(), odd + even)
        XCTAssertEqual(queue.count, 0)
    }

    func testManyRandomItemsLeaveSorted() {
        var random = SplitMix64(seed: 9)
        var queue = NetemDueQueue<Int, Int>()
        var expected: [(due: Int, arrival: Int)] = []
        for arrival in 0..<2_000 {
            let due = Int.random(in: 0..<500, using: &random)
            queue.insert(arrival, due: due)
            expected.append((due, arrival))
        }
        let order = expected.sorted { ($0.due, $0.arrival) < ($1.due, $1.arrival) }.map(\.arrival)
        var popped: [Int] = []
        var now = 0
        while queue.count > 0 {
            while let item = queue.popDue(now: now) { popped.append(item) }
            now += 7
        }
        XCTAssertEqual(popped, order)
    }
}
