import Wire
import XCTest

final class ConnectionNumberAllocatorTests: XCTestCase {
    private static func noneInUse(_: UInt32) -> Bool { false }

    func testStartsAtOneAndCountsUp() {
        var allocator = ConnectionNumberAllocator()
        XCTAssertEqual((0..<5).map { _ in allocator.next(isInUse: Self.noneInUse) }, [1, 2, 3, 4, 5])
    }

    func testStartsAfterTheGivenNumber() {
        var allocator = ConnectionNumberAllocator(startingAfter: 1000)
        XCTAssertEqual(allocator.next(isInUse: Self.noneInUse), 1001)
        XCTAssertEqual(allocator.next(isInUse: Self.noneInUse), 1002)
    }

    func testWrapsFromMaxToOneSkippingZero() {
        var allocator = ConnectionNumberAllocator(startingAfter: UInt32.max - 2)
        let numbers = (0..<4).map { _ in allocator.next(isInUse: Self.noneInUse) }
        XCTAssertEqual(numbers, [UInt32.max - 1, UInt32.max, 1, 2])
    }

    func testStartingAfterMaxGivesOne() {
        var allocator = ConnectionNumberAllocator(startingAfter: .max)
        XCTAssertEqual(allocator.next(isInUse: Self.noneInUse), 1)
    }

    func testNeverHandsOutZeroEvenWhenAskedAboutIt() {
        var allocator = ConnectionNumberAllocator(startingAfter: .max)
        var asked: [UInt32] = []
        let number = allocator.next { asked.append($0); return false }
        XCTAssertEqual(number, 1)
        XCTAssertFalse(asked.contains(0))
    }

    func testSkipsNumbersInUse() {
        var allocator = ConnectionNumberAllocator()
        let inUse: Set<UInt32> = [1, 2, 4]
        XCTAssertEqual(allocator.next { inUse.contains($0) }, 3)
        XCTAssertEqual(allocator.next { inUse.contains($0) }, 5)
    }

    func testSkipsNumbersInUseAcrossTheWrap() {
        var allocator = ConnectionNumberAllocator(startingAfter: .max - 1)
        let inUse: Set<UInt32> = [.max, 1, 2]
        XCTAssertEqual(allocator.next { inUse.contains($0) }, 3)
    }

    func testAsksAboutEachCandidateOnceInOrder() {
        var allocator = ConnectionNumberAllocator(startingAfter: 10)
        var asked: [UInt32] = []
        let number = allocator.next { asked.append($0); return $0 < 14 }
        XCTAssertEqual(number, 14)
        XCTAssertEqual(asked, [11, 12, 13, 14])
    }

    func testContinuesAfterTheLastNumberHandedOutNotAfterTheSkippedOnes() {
        var allocator = ConnectionNumberAllocator()
        XCTAssertEqual(allocator.next { $0 < 3 }, 3)
        // 1 and 2 are free now, but numbers keep increasing: a recently closed client's id is not reused at once.
        XCTAssertEqual(allocator.next(isInUse: Self.noneInUse), 4)
    }

    func testEachLaneHandsOutItsOwnStripeOfNumbers() {
        let lanes = ConnectionLanes(count: 3)
        for lane in 0..<3 {
            var allocator = ConnectionNumberAllocator(lane: lane, of: lanes)
            let numbers = (0..<4).map { _ in allocator.next(isInUse: Self.noneInUse) }
            XCTAssertEqual(numbers, (0..<4).map { UInt32(lane + 1 + 3 * $0) })
            XCTAssertEqual(Set(numbers.map(lanes.lane(of:))), [lane])
        }
    }

    func testALaneWrapsToItsFirstNumberAndStaysInItsStripe() {
        let lanes = ConnectionLanes(count: 2)
        // Lane 0 of 2 holds the odd numbers, UInt32.max (odd) being its last.
        var allocator = ConnectionNumberAllocator(lane: 0, of: lanes, startingAfter: UInt32.max - 4)
        XCTAssertEqual(allocator.next(isInUse: { $0 == UInt32.max - 2 }), UInt32.max)
        XCTAssertEqual(allocator.next(isInUse: { $0 == 1 }), 3)
        XCTAssertEqual(lanes.lane(of: UInt32.max), 0)
        XCTAssertEqual(lanes.lane(of: UInt32.max - 1), 1)
    }

    func testOneLaneIsThePlainCount() {
        var allocator = ConnectionNumberAllocator(lane: 0, of: ConnectionLanes(count: 1))
        XCTAssertEqual((0..<3).map { _ in allocator.next(isInUse: Self.noneInUse) }, [1, 2, 3])
    }
}
