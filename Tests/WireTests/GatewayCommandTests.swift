import Wire
import XCTest

final class GatewayCommandTests: XCTestCase {
    func testQueriesAreExactlyTheCommandsAGatewayAnswers() {
        let queries = Set(GatewayCommand.allCases.filter(\.isQuery))
        XCTAssertEqual(
            queries,
            [
                .isOnline, .getSessionByClientID, .getClientIDByUID, .batchGetClientIDByUID, .getClientCountByGroup,
                .batchGetClientCountByGroup, .getClientSessionsByGroup, .getAllClientSessions, .getGroupIDList, .select,
            ]
        )
    }

    func testClientEventsAreExactlyTheEventsAboutClients() {
        let events = Set(GatewayCommand.allCases.filter(\.isClientEvent))
        XCTAssertEqual(events, [.onConnect, .onMessage, .onClose, .onWebSocketConnect])
    }

    func testNoCommandIsBothAQueryAndAClientEvent() {
        for command in GatewayCommand.allCases {
            XCTAssertFalse(command.isQuery && command.isClientEvent, "\(command)")
        }
    }

    func testLinkAndAnswerCommandsAreNeither() {
        let neither: [GatewayCommand] = [
            .workerConnect, .ping, .gatewayClientConnect, .handshakeResult, .acknowledge, .workerLeaving,
            .leaveAccepted, .queryResult, .channelPublish, .channelEvent, .linkChallenge, .linkProof, .sendToOne, .sendToAll, .setSession,
            .updateSession,
        ]
        for command in neither {
            XCTAssertFalse(command.isQuery, "\(command)")
            XCTAssertFalse(command.isClientEvent, "\(command)")
        }
    }

    func testCommandNumbersAreUnique() {
        XCTAssertEqual(Set(GatewayCommand.allCases.map(\.rawValue)).count, GatewayCommand.allCases.count)
        XCTAssertNil(GatewayCommand(rawValue: 0))
        XCTAssertNil(GatewayCommand(rawValue: 2))
        XCTAssertNil(GatewayCommand(rawValue: 255))
    }
}
