import Foundation

/// Certificates made at run time with the `openssl` command for TLS tests: a root CA, an
/// intermediate CA it signs, and a server certificate for `localhost` and `127.0.0.1` that the
/// intermediate signs. The server's PEM file holds the chain (server, then intermediate), so a
/// client that trusts only the root can verify it.
public struct TestCertificateAuthority: Sendable {
    /// The root CA certificate (PEM): what clients trust.
    public let rootCertificatePath: String
    /// The server certificate followed by the intermediate (PEM).
    public let serverChainPath: String
    /// The server's private key (PEM, unencrypted).
    public let serverKeyPath: String

    /// Makes a fresh CA and server certificate in a new temporary directory.
    public init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("test-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { "\(directory)/\(name)" }
        try Self.write(path("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        try Self.write(
            path("server.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
        )
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + newKey + [
            "-keyout", path("root.key"), "-out", path("root.pem"), "-days", "2", "-subj", "/CN=DataCentered Test Root CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        for (name, subject, issuer, extensions) in [
            ("intermediate", "/CN=DataCentered Test Intermediate CA", "root", "ca.ext"),
            ("server", "/CN=localhost", "intermediate", "server.ext"),
        ] {
            try Self.openssl(["req"] + newKey + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
            try Self.openssl([
                "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(issuer).pem"), "-CAkey", path("\(issuer).key"),
                "-CAcreateserial", "-days", "2", "-extfile", path(extensions), "-out", path("\(name).pem"),
            ])
        }
        let chain = try String(contentsOfFile: path("server.pem"), encoding: .utf8) + String(contentsOfFile: path("intermediate.pem"), encoding: .utf8)
        try Self.write(path("server-chain.pem"), chain)
        rootCertificatePath = path("root.pem")
        serverChainPath = path("server-chain.pem")
        serverKeyPath = path("server.key")
    }

    private static func write(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ManagedProcess.Failure(description: "openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}
