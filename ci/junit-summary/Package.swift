// swift-tools-version: 6.1
import PackageDescription

// The one line ci/test.sh prints after `swift test`: what ran, passed, failed
// and was skipped (and why), read from the JUnit XML the runner wrote. A
// package of its own, with no dependencies, so that it builds in seconds and
// stays out of tapyrus-trace's products.
let package = Package(
    name: "junit-summary",
    products: [
        .executable(name: "junit-summary", targets: ["junit-summary"]),
    ],
    targets: [
        .target(name: "JUnitSummary"),
        .executableTarget(name: "junit-summary", dependencies: ["JUnitSummary"]),
        .testTarget(name: "JUnitSummaryTests", dependencies: ["JUnitSummary"]),
    ]
)
