/// The body of a ``GatewayCommand/queryResult``: the answer's value, or why there is none.
/// Every query gets exactly one answer, in order, even when it fails, so answers need no ids.
public struct QueryAnswer<Value: Codable & Sendable>: Codable, Sendable {
    public var value: Value?
    public var error: String?

    public static func success(_ value: Value) -> QueryAnswer { QueryAnswer(value: value, error: nil) }
    public static func failure(_ error: String) -> QueryAnswer { QueryAnswer(value: nil, error: error) }
}
