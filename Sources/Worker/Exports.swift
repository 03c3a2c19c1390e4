// A handler needs the cluster API's and the wire's value types (ClientID, JSONValue,
// OutgoingMessage, WebSocketHandshakeInfo) with `import Worker` alone.
@_exported import Cluster
@_exported import Wire
