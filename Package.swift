// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "tapyrus-trace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tapyrus-trace", targets: ["TapyrusTraceCLI"]),
        .library(name: "TapyrusEncoding", targets: ["TapyrusEncoding"]),
        .library(name: "TraceHarness", targets: ["TraceHarness"]),
        .library(name: "NodeControl", targets: ["NodeControl"]),
        .library(name: "BenchStore", targets: ["BenchStore"]),
        .library(name: "RegressionSuite", targets: ["RegressionSuite"]),
        .library(name: "TraceTools", targets: ["TraceTools"]),
        .library(name: "ConnectBlockBench", targets: ["ConnectBlockBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // The one thin layer of C interop: libbpf, libelf and the record layout
        // shared with the eBPF capture program.
        .target(
            name: "CBPFShim",
            linkerSettings: [
                .linkedLibrary("bpf"),
                .linkedLibrary("elf"),
                .linkedLibrary("z"),
            ]
        ),
        // Turns the compiled eBPF object into Swift source, so the program
        // travels inside the binary and is loaded from memory.
        .executableTarget(name: "BPFEmbedder"),
        .plugin(
            name: "BPFCompilerPlugin",
            capability: .buildTool(),
            dependencies: ["BPFEmbedder"]
        ),
        // What the capture core and node control both need: hex, byte
        // reading and writing, SHA-256, amounts and the transaction codec.
        .target(name: "TapyrusEncoding"),
        // The capture core: ELF notes, the tracepoint catalogue and typed
        // events, the capture itself and the capture session. It knows
        // nothing of nodes.
        .target(
            name: "TraceHarness",
            dependencies: ["CBPFShim", "TapyrusEncoding"],
            exclude: ["Capture/BPF"],
            plugins: ["BPFCompilerPlugin"]
        ),
        // The regression scenarios: real nodes driven into the states where
        // tracepoints fire, their events compared with RPC and P2P ground truth.
        .target(
            name: "RegressionSuite",
            dependencies: ["TapyrusEncoding", "TraceHarness", "NodeControl"]
        ),
        // The seed tools' pure state and rendering: logs, monitors, the
        // connectblock benchmark; the CLI feeds them events and keys.
        .target(
            name: "TraceTools",
            dependencies: ["TapyrusEncoding", "TraceHarness"]
        ),
        // The ConnectBlock benchmark: deterministic chains, the reindex runner,
        // the statistics that compare builds, and what identifies a build.
        .target(
            name: "ConnectBlockBench",
            dependencies: ["TapyrusEncoding", "TraceHarness", "NodeControl"]
        ),
        .target(
            name: "NodeControl",
            dependencies: [
                "TapyrusEncoding",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // The benchmark's baselines in SQLite (GRDB over the system libsqlite3),
        // compared with the benchmark's statistics; kept apart so that nothing
        // else depends on GRDB.
        .target(
            name: "BenchStore",
            dependencies: [
                "ConnectBlockBench",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "TapyrusTraceCLI",
            dependencies: [
                "TapyrusEncoding",
                "TraceHarness",
                "NodeControl",
                "RegressionSuite",
                "TraceTools",
                "ConnectBlockBench",
                "BenchStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "UnitTests",
            dependencies: ["TapyrusEncoding", "TraceHarness", "NodeControl", "RegressionSuite", "TraceTools", "ConnectBlockBench", "BenchStore", "TapyrusTraceCLI"]
        ),
        .testTarget(
            name: "FunctionalTests",
            dependencies: ["TapyrusEncoding", "TraceHarness", "NodeControl", "RegressionSuite", "TraceTools", "ConnectBlockBench", "BenchStore"]
        ),
    ]
)
