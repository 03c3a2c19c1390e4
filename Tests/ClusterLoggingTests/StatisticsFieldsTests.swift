import ClusterLogging
import XCTest

final class StatisticsFieldsTests: XCTestCase {
    private struct Counters: StatisticsLine {
        var messagesIn = 3
        var label = "not a counter"
        var clientsTotal = 1
        var closesSentByCode = ["1001": 2, "1000": 5]
    }

    func testIntegersAreReadInOrderAndDictionariesAsLabelledCounters() {
        let fields = StatisticsFields(reflecting: Counters())
        XCTAssertEqual(fields.counters.map(\.name), ["messagesIn", "clientsTotal"])
        XCTAssertEqual(fields.counters.map(\.value), [3, 1])
        XCTAssertEqual(fields.labelled.map(\.name), ["closesSentByCode"])
        XCTAssertEqual(fields.labelled.first?.values, ["1001": 2, "1000": 5])
    }

    func testTheLabelIsWhatFollowsTheLastBy() {
        XCTAssertEqual(StatisticsFields.split(labelled: "closesSentByCode").counter, "closesSent")
        XCTAssertEqual(StatisticsFields.split(labelled: "closesSentByCode").label, "code")
        XCTAssertEqual(StatisticsFields.split(labelled: "bytesByRemotePort").label, "remote_port")
    }

    func testTheLogLineHasSnakeCasedPairsAndOnePairPerLabelValue() {
        XCTAssertEqual(Counters().description, "messages_in=3 clients_total=1 closes_sent_1000=5 closes_sent_1001=2")
    }
}
