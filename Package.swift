// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "tapyrus-trace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tapyrus-trace", targets: ["TapyrusTraceCLI"]),
        .library(name: "TraceHarness", targets: ["TraceHarness"]),
        .library(name: "NodeControl", targets: ["NodeControl"]),
        .library(name: "BenchStore", targets: ["BenchStore"]),
        .library(name: "RegressionSuite", targets: ["RegressionSuite"]),
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
        .target(
            name: "TraceHarness",
            dependencies: ["CBPFShim", "NodeControl"],
            exclude: ["Capture/BPF"],
            plugins: ["BPFCompilerPlugin"]
        ),
        // The regression scenarios: real nodes driven into the states where
        // tracepoints fire, their events compared with RPC and P2P ground truth.
        .target(
            name: "RegressionSuite",
            dependencies: ["TraceHarness", "NodeControl"]
        ),
        .target(
            name: "NodeControl",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // The benchmark's baselines in SQLite (GRDB over the system libsqlite3),
        // kept apart from TraceHarness so that the harness does not depend on GRDB.
        .target(
            name: "BenchStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "TapyrusTraceCLI",
            dependencies: [
                "TraceHarness",
                "NodeControl",
                "RegressionSuite",
                "BenchStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "UnitTests",
            dependencies: ["TraceHarness", "NodeControl", "BenchStore"]
        ),
        .testTarget(
            name: "FunctionalTests",
            dependencies: ["TraceHarness", "NodeControl", "RegressionSuite", "BenchStore"]
        ),
    ]
)
