// swift-tools-version:6.2
import PackageDescription

/// One settings list for every Swift target (CONVENTIONS.md): the compiler then refuses a C type
/// in a public API and any implicit existential.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "coop-edge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "coop-edge", targets: ["coop-edge"]),
        .executable(name: "coop-edge-sim", targets: ["coop-edge-sim"]),
        .executable(name: "coop-edge-bench", targets: ["coop-edge-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // libyaml's event parser; Config composes its own tree on it (no Foundation, no Yams).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // glibc's <sys/timex.h>, which Swift's Glibc module leaves out (clock synchronisation).
        .systemLibrary(name: "CPlatform"),

        .target(name: "IOThread", dependencies: ["CPlatform"], swiftSettings: strict),
        .target(name: "EdgeCore", swiftSettings: strict),
        .target(name: "Detection", dependencies: ["EdgeCore"], swiftSettings: strict),
        // Synthetic labelled traces drawn from wide physics ranges, a scorer that matches
        // tools/score_traces.py, and the sweep that proves the detector on rooms it was not tuned on.
        .target(name: "TraceLab", dependencies: ["Detection", "EdgeCore"], swiftSettings: strict),
        .target(name: "Config", dependencies: ["EdgeCore", "CYAML"], swiftSettings: strict),
        .target(name: "Modbus", dependencies: ["EdgeCore", "CModbus", "CPlatform", "IOThread"], swiftSettings: strict),
        .target(name: "Outbox", dependencies: ["EdgeCore", "CSQLite", "IOThread"], swiftSettings: strict),
        .target(name: "MQTT", dependencies: ["CMosquitto", "IOThread"], swiftSettings: strict),
        .target(
            name: "Agent",
            dependencies: [
                "EdgeCore", "Detection", "Config", "Modbus", "Outbox", "MQTT", "IOThread", "CPlatform",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "coop-edge",
            dependencies: [
                "Agent", "Config", "EdgeCore", "Detection", "Modbus", "Outbox", "IOThread",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "coop-edge-sim",
            dependencies: [
                "EdgeCore", "Config", "CModbus", "CPlatform", "IOThread", "Modbus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Benchmark-only: counts malloc calls by interposing malloc in the bench executable.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "coop-edge-bench",
            dependencies: ["EdgeCore", "Detection", "Outbox", "CMallocCounter", "TraceLab"],
            swiftSettings: strict
        ),

        .testTarget(name: "EdgeCoreTests", dependencies: ["EdgeCore"], swiftSettings: strict),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "EdgeCore", "TraceLab"], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "EdgeCore"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Agent", "Config", "Detection", "EdgeCore", "Modbus", "Outbox", "MQTT", "IOThread",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            exclude: ["Peers"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
