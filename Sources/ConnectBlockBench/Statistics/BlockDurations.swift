import Foundation

/// The ConnectBlock durations of one side of a comparison (one build): per
/// block height, one duration in microseconds for each repetition that
/// measured it.
public struct BlockDurations: Sendable, Hashable, Codable {
    /// Durations in µs by height, in the order they were added.
    public private(set) var byHeight: [Int: [Double]]

    public init() { byHeight = [:] }

    /// Durations in µs by height, several per height when repeated.
    public init(_ byHeight: [Int: [Double]]) { self.byHeight = byHeight }

    /// One repetition per element, each a map from height to µs.
    public init(repetitions: [[Int: Double]]) {
        self.init()
        for repetition in repetitions { add(repetition: repetition) }
    }

    /// Records the duration of the block at `height` in one repetition.
    public mutating func add(height: Int, microseconds: Double) {
        byHeight[height, default: []].append(microseconds)
    }

    /// Records a whole repetition.
    public mutating func add(repetition: [Int: Double]) {
        for (height, microseconds) in repetition { add(height: height, microseconds: microseconds) }
    }

    /// Whether no duration is recorded.
    public var isEmpty: Bool { byHeight.values.allSatisfy(\.isEmpty) }

    /// How many durations are recorded over all heights.
    public var measurementCount: Int { byHeight.values.reduce(0) { $0 + $1.count } }

    /// The per-height medians over repetitions, the value that is paired.
    public func medians() -> [Int: Double] {
        byHeight.compactMapValues { $0.isEmpty ? nil : Descriptive.median($0) }
    }

    /// The first duration that cannot be a block's duration (zero, negative,
    /// infinite or NaN), lowest height first.
    func firstInvalid() -> (height: Int, microseconds: Double)? {
        for height in byHeight.keys.sorted() {
            if let bad = byHeight[height]!.first(where: { !($0 > 0 && $0.isFinite) }) { return (height, bad) }
        }
        return nil
    }
}

/// Two sets of durations could not be compared; the message says what to fix.
public struct StatisticsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
