// swift-tools-version:6.1
import PackageDescription

let strictSwift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "DataCentered",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "datacentered", targets: ["datacentered"]),
        .executable(name: "loadgen", targets: ["LoadGen"]),
        .executable(name: "echo-ceiling", targets: ["EchoCeiling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.2.0"),
        // Host agent: job child processes.
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        // Supervisor: one config file (JSON, environment, flags), Prometheus metrics.
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "CommandLineArguments"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        // Hardening: HMAC for the link handshake's challenge-response; DataCenter: token hashing.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // Gateway <-> worker frames, client ids: pure codecs, no sockets.
        .target(
            name: "Wire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift6
        ),
        // Logging what peers can trigger: rate-limited, with peer text escaped.
        .target(
            name: "ClusterLogging",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "ClusterLoggingTests",
            dependencies: [
                "ClusterLogging", "ClusterTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // libmemcached, found with pkg-config.
        .systemLibrary(
            name: "CMemcached",
            pkgConfig: "libmemcached",
            providers: [.apt(["libmemcached-dev"])]
        ),
        // The registry of gateway addresses and GlobalData, on memcached.
        .target(
            name: "Registry",
            dependencies: [
                "CMemcached", "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // The WebSocket frames a server reads from its clients and writes to them (RFC 6455),
        // straight from and into ByteBuffers: the gateway's and echo-ceiling's.
        .target(
            name: "WebSocketFrames",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "WebSocketFramesTests",
            dependencies: [
                "WebSocketFrames",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "Wire", "ClusterLogging", "WebSocketFrames",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // The cluster API (GatewayWorker's Lib\Gateway), over any transport to gateways.
        .target(
            name: "Cluster",
            dependencies: [
                "Wire", "ClusterLogging",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .target(
            name: "Worker",
            dependencies: [
                "Wire", "Cluster", "Registry", "ClusterLogging",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // The echo / broadcast demo event handler.
        .target(
            name: "EchoDemo",
            dependencies: ["Worker"],
            swiftSettings: strictSwift6
        ),
        // The cluster API for other services (GatewayWorker's GatewayClient).
        .target(
            name: "Client",
            dependencies: [
                "Cluster", "Registry", "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // A handler that exposes the cluster API to clients as JSON calls (end-to-end tests, diagnostics).
        .target(
            name: "ClusterProbe",
            dependencies: ["Worker", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift6
        ),
        // prctl for the supervisor's children (variadic in C, so not callable from Swift).
        .target(name: "CSupervisor"),
        // The master process of `datacentered start`: config, child processes, control socket, status, metrics.
        .target(
            name: "Supervisor",
            dependencies: [
                "CSupervisor", "Wire", "ClusterLogging",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "datacentered",
            dependencies: [
                "Gateway", "Worker", "Registry", "EchoDemo", "ClusterProbe", "Client", "Agent", "Supervisor", "DataCenter",
                "DataCenterProtocol", "DataCenterClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // The benchmark's WebSocket load generator (rtt, fanout, idle).
        .executableTarget(
            name: "LoadGen",
            dependencies: [
                "DataCenterProtocol", "DataCenterClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSwift6
        ),
        // The single-hop WebSocket echo / broadcast server the cluster is compared with.
        .executableTarget(
            name: "EchoCeiling",
            dependencies: [
                "WebSocketFrames",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // Starts memcached, gateways and workers on free ports for end-to-end tests.
        .target(
            name: "ClusterTesting",
            dependencies: [
                "DataCenterClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // DataCenter: the versioned JSON envelope shared by agents, the central handler, operators and services.
        .target(
            name: "DataCenterProtocol",
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "DataCenterProtocolTests",
            dependencies: ["DataCenterProtocol"],
            swiftSettings: strictSwift6
        ),
        // DataCenter: the central event handler (auth, host state, jobs, scheduled sweeps).
        .target(
            name: "DataCenter",
            dependencies: [
                "DataCenterProtocol", "Worker", "Registry", "Wire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "DataCenterTests",
            dependencies: [
                "DataCenter", "DataCenterProtocol", "DataCenterClient", "ClusterTesting", "Registry",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // A client of the DataCenter gateways: WebSocket, envelope, reconnect (the agent, `datacentered jobs`).
        .target(
            name: "DataCenterClient",
            dependencies: [
                "DataCenterProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // The host agent: reports from /proc and /sys, the VPS inventory, jobs and timers.
        .target(
            name: "Agent",
            dependencies: [
                "DataCenterProtocol", "DataCenterClient",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "DataCenterClient", "DataCenterProtocol", "ClusterTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "LoadGenTests",
            dependencies: [
                "LoadGen", "EchoCeiling", "ClusterTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "WireTests",
            dependencies: [
                "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Wire", "ClusterLogging", "WebSocketFrames",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: [
                "Registry", "ClusterTesting", "Wire",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // The real `datacentered start` binary: config, respawn, control commands, reload, metrics.
        .testTarget(
            name: "SupervisorTests",
            dependencies: [
                "ClusterTesting", "Supervisor",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "ClusterTesting", "Wire", "Client", "Registry", "Cluster",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift6
        ),
    ]
)

// The operator dashboard: its page (HTML, CSS, JavaScript modules, no build step) as resources,
// served by the gateway (`datacentered gateway --dashboard`).
package.targets += [
    .target(
        name: "Dashboard",
        resources: [.copy("Site")],
        swiftSettings: strictSwift6
    ),
    .testTarget(
        name: "DashboardTests",
        dependencies: [
            "ClusterTesting",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ],
        // The Python scripts that drive Chromium; the tests run them from the source tree.
        exclude: ["Browser"],
        swiftSettings: strictSwift6
    ),
]
package.targets.first { $0.name == "datacentered" }?.dependencies.append("Dashboard")
