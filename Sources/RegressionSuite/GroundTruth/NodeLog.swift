import Foundation
import TapyrusEncoding
import NodeControl

/// What a node's own `debug.log` says: ground truth for values no RPC
/// returns, such as how long `ConnectBlock` took and how much memory the
/// coins cache used.
///
/// tapyrusd writes its log unbuffered, so once an RPC returns, the lines of
/// what it did are in the file. The lines read here need the node to run
/// with ``arguments``: `-debug=bench` (ConnectBlock's parts),
/// `-debug=coindb` (coin database writes) and `-logtimemicros`.
struct NodeLog: Sendable {
    /// The arguments that make tapyrusd log what this type reads.
    static let arguments = ["-debug=bench", "-debug=coindb", "-logtimemicros=1"]

    /// One connected block's `ConnectBlock` as `-debug=bench` reports it.
    ///
    /// `ConnectBlock` logs four parts before it fires
    /// `validation:block_connected` with their total (`nTime5 − nTimeStart`):
    /// sanity checks, fork checks, verification (which includes connecting
    /// the transactions) and index writing, each in milliseconds with two
    /// decimals. A block template checked by `TestBlockValidity` logs the
    /// first three and returns before index writing, so only groups that
    /// reach index writing and are followed by `UpdateTip` are connected
    /// blocks.
    struct ConnectedBlock: Sendable, Equatable {
        var hash: String
        var height: Int
        /// The four parts in microseconds, each rounded to 10 µs by the log
        /// (empty without `-debug=bench`).
        var partsMicroseconds: [Double]
        /// `UpdateTip`'s `cache=…MiB`: the coins cache's memory after the block.
        var cacheMebibytes: Double
        /// `UpdateTip`'s `(…txo)`: the coins cache's entries after the block.
        var cacheEntries: Int
        /// When `UpdateTip` was logged, in microseconds since the epoch.
        var loggedAtMicroseconds: Int64

        /// The logged total of `ConnectBlock` up to index writing.
        var totalMicroseconds: Double { partsMicroseconds.reduce(0, +) }

        /// How far the true total can lie from ``totalMicroseconds``: each
        /// part is rounded to the nearest 10 µs.
        var roundingMicroseconds: Double { 5 * Double(partsMicroseconds.count) }
    }

    /// One write of the coins cache to the coin database (`-debug=coindb`).
    struct CoinDatabaseWrite: Sendable, Equatable {
        /// When "Writing final batch" was logged (µs since the epoch).
        var startedMicroseconds: Int64
        /// When "Committed … changed transaction outputs" was logged.
        var committedMicroseconds: Int64
        /// The changed entries written.
        var changed: Int
        /// The entries the cache handed to the database.
        var count: Int
    }

    var connectedBlocks: [ConnectedBlock] = []
    var coinDatabaseWrites: [CoinDatabaseWrite] = []

    /// Reads the log of `node` as it is now.
    static func read(_ node: TapyrusNode) throws -> NodeLog {
        guard let data = FileManager.default.contents(atPath: node.debugLogPath) else {
            throw ScenarioError("cannot read \(node.debugLogPath)")
        }
        return NodeLog(parsing: String(decoding: data, as: UTF8.self))
    }

    /// Parses log text.
    init(parsing text: String) {
        var parts: [String: Double] = [:]
        var pending: [Double]?
        var batchStart: Int64?
        for (time, message) in Self.entries(text) {
            if let value = Self.milliseconds(after: "- Sanity checks: ", in: message) {
                parts = ["sanity": value]
                pending = nil
            } else if let value = Self.milliseconds(after: "- Fork checks: ", in: message) {
                parts["forks"] = value
            } else if message.contains("- Verify "), let value = Self.milliseconds(after: "txins: ", in: message) {
                parts["verify"] = value
            } else if let value = Self.milliseconds(after: "- Index writing: ", in: message) {
                parts["index"] = value
                if let sanity = parts["sanity"], let forks = parts["forks"], let verify = parts["verify"] {
                    pending = [sanity, forks, verify, value].map { $0 * 1000 }
                }
                parts = [:]
            } else if message.hasPrefix("UpdateTip: new best="), let time {
                if let block = Self.updateTip(message, parts: pending ?? [], time: time) { connectedBlocks.append(block) }
                pending = nil
            } else if message.hasPrefix("Writing final batch of ") {
                batchStart = time
            } else if message.hasPrefix("Committed "), let start = batchStart, let time {
                let numbers = message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                if numbers.count >= 2 {
                    coinDatabaseWrites.append(CoinDatabaseWrite(startedMicroseconds: start, committedMicroseconds: time,
                                                                changed: numbers[0], count: numbers[1]))
                }
                batchStart = nil
            }
        }
    }

    /// The block `hash` as connected last (a block can connect twice, e.g.
    /// after `invalidateblock` and `reconsiderblock`).
    func lastConnection(of hash: String) -> ConnectedBlock? {
        connectedBlocks.last { $0.hash == hash }
    }

    /// The log's entries: `2026-12-01T22:13:28.123456Z message` split into
    /// its time (µs since the epoch) and its message. A line without a time
    /// continues the entry before it (`UpdateTip` prints the xfield with a
    /// line break, so its `tx=… cache=…` part stands on a line of its own).
    static func entries(_ text: String) -> [(time: Int64?, message: Substring)] {
        var entries: [(time: Int64?, message: Substring)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let space = line.firstIndex(of: " ")
            let time = space.flatMap { microseconds(line[..<$0]) }
            if let time, let space {
                entries.append((time, line[line.index(after: space)...].drop { $0 == " " }))
            } else if let last = entries.popLast() {
                entries.append((last.time, Substring(last.message + " " + line)))
            } else {
                entries.append((nil, line))
            }
        }
        return entries
    }

    /// Parses an ISO 8601 UTC time with six decimals into µs since the epoch.
    static func microseconds(_ stamp: Substring) -> Int64? {
        // 2026-12-01T22:13:28.123456Z
        let digits = stamp.split(whereSeparator: { "-T:.Z".contains($0) })
        guard stamp.count == 27, digits.count == 7, digits[6].count == 6,
              let year = Int(digits[0]), let month = Int(digits[1]), let day = Int(digits[2]),
              let hour = Int(digits[3]), let minute = Int(digits[4]), let second = Int(digits[5]),
              let fraction = Int64(digits[6]) else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = Int64(era * 146_097 + dayOfEra - 719_468)
        let seconds = ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60 + Int64(second)
        return seconds * 1_000_000 + fraction
    }

    /// The number in `…<marker>12.34ms…`.
    private static func milliseconds(after marker: String, in message: Substring) -> Double? {
        guard let range = message.range(of: marker) else { return nil }
        let rest = message[range.upperBound...]
        guard let end = rest.range(of: "ms") else { return nil }
        return Double(rest[..<end.lowerBound])
    }

    /// `UpdateTip: new best=<hash> height=<n> … cache=<x>MiB(<n>txo)`.
    private static func updateTip(_ message: Substring, parts: [Double], time: Int64) -> ConnectedBlock? {
        func field(_ name: String, until terminator: String) -> Substring? {
            guard let start = message.range(of: name) else { return nil }
            let rest = message[start.upperBound...]
            guard let end = rest.range(of: terminator) else { return rest }
            return rest[..<end.lowerBound]
        }
        guard let hash = field("best=", until: " "), let height = field("height=", until: " ").flatMap({ Int($0) }),
              let cache = field("cache=", until: "MiB").flatMap({ Double($0) }),
              let entries = field("MiB(", until: "txo").flatMap({ Int($0) }) else { return nil }
        return ConnectedBlock(hash: String(hash), height: height, partsMicroseconds: parts,
                              cacheMebibytes: cache, cacheEntries: entries, loggedAtMicroseconds: time)
    }
}
