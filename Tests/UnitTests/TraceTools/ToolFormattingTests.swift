import Foundation
import TapyrusEncoding
import Testing
@testable import TraceHarness
@testable import TraceTools

/// Events as the decoder makes them, for feeding tools directly.
enum ToolEvents {
    static let date = Date(timeIntervalSince1970: 1_700_000_000.25)

    static func event(_ tracepoint: Tracepoint, _ values: [FieldValue], pid: Int32 = 10, tid: Int32 = 11, nanoseconds: UInt64 = 0) -> TraceEvent {
        TraceEvent(probe: tracepoint.probe, tracepoint: tracepoint, monotonicNanoseconds: nanoseconds, date: date, pid: pid, tid: tid,
                   fields: zip(tracepoint.fields, values).map { NamedValue(name: $0.name, value: $1) })
    }

    static func message(_ inbound: Bool, type: String, address: String = "127.0.0.1:1234", bytes: [UInt8], declared: Int? = nil,
                        pid: Int32 = 10) -> TraceEvent {
        event(inbound ? InboundMessage.tracepoint : OutboundMessage.tracepoint, pid: pid, values: [
            .signed(11), .string(address, truncated: false), .string("Out-----M-Tx", truncated: false), .string(type, truncated: false),
            .unsigned(UInt64(declared ?? bytes.count)), .payload(Payload(bytes: bytes, declaredLength: UInt64(declared ?? bytes.count))),
        ])
    }

    static func event(_ tracepoint: Tracepoint, pid: Int32, values: [FieldValue]) -> TraceEvent {
        event(tracepoint, values, pid: pid)
    }

    static func coin(_ tracepoint: Tracepoint, txid: String, index: UInt32, colour: String = "TPC", height: UInt32, value: Int64, coinbase: Bool,
                     pid: Int32 = 10) -> TraceEvent {
        event(tracepoint, [.string(txid, truncated: false), .unsigned(UInt64(index)), .string(colour, truncated: false),
                           .unsigned(UInt64(height)), .signed(value), .bool(coinbase)], pid: pid)
    }

    /// A block connected by process `pid`; its hash's bytes are its height plus `salt`.
    static func block(height: Int32, microseconds: Int64, at nanoseconds: UInt64, pid: Int32 = 10, salt: UInt8 = 0) -> TraceEvent {
        event(BlockConnected.tracepoint, [.hash(Hash256(bytes: Array(repeating: UInt8(height) &+ salt, count: 32))), .signed(Int64(height)),
                                          .unsigned(2), .signed(3), .signed(4), .signed(microseconds)], pid: pid, nanoseconds: nanoseconds)
    }
}

@Suite("p2p-log and raw-p2p lines")
struct P2PToolFormattingTests {
    @Test("p2p-log prints the seed's line, with 'to' for messages sent and a Tor v3 address whole")
    func seedLines() {
        var log = P2PTrafficLog()
        #expect(log.consume(ToolEvents.message(false, type: "ping", bytes: Array(repeating: 1, count: 8)))
                == ["outbound 'ping' msg to peer 11 (Out-----M-Tx, 127.0.0.1:1234) with 8 bytes"])
        let tor = String(repeating: "a", count: 56) + ".onion:8333"
        #expect(log.consume(ToolEvents.message(true, type: "inv", address: tor, bytes: Array(repeating: 2, count: 37)))
                == ["inbound 'inv' msg from peer 11 (Out-----M-Tx, \(tor)) with 37 bytes"])
    }

    @Test("p2p-log --json gives every column as a member")
    func json() throws {
        var log = P2PTrafficLog(json: true)
        let line = try #require(log.consume(ToolEvents.message(true, type: "pong", bytes: [1, 2, 3])).first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["direction"] as? String == "inbound")
        #expect(object["message_type"] as? String == "pong")
        #expect(object["peer_id"] as? Int == 11)
        #expect(object["connection_type"] as? String == "Out-----M-Tx")
        #expect(object["peer_address"] as? String == "127.0.0.1:1234")
        #expect(object["size"] as? Int == 3)
        #expect(object["time"] as? String == "2023-11-14T22:13:20.250000Z")
    }

    @Test("raw-p2p prints a 40,000-byte message whole and marks one that could not be read with how many bytes were")
    func rawWholeAndIncomplete() {
        var log = RawP2PLog()
        let big = (0..<40_000).map { UInt8($0 & 0xff) }
        let line = log.consume(ToolEvents.message(true, type: "tx", bytes: big)).first ?? ""
        #expect(line == "inbound msg 'tx' from peer 11 (Out-----M-Tx, 127.0.0.1:1234) with 40000 bytes: \(big.hexString)")
        let cut = log.consume(ToolEvents.message(false, type: "block", bytes: [0xab, 0xcd], declared: 5)).first ?? ""
        #expect(cut == "Warning: incomplete message (only 2 out of 5 bytes)! outbound msg 'block' to peer 11 (Out-----M-Tx, 127.0.0.1:1234) with 5 bytes: abcd")
        #expect(log.finish() == ["2 messages: 1 whole, 1 incomplete"])
    }

    @Test("events of other probes print nothing")
    func otherProbes() {
        var log = P2PTrafficLog()
        #expect(log.consume(ToolEvents.block(height: 1, microseconds: 1, at: 0)).isEmpty)
    }
}

@Suite("flush-log and utxo-log lines")
struct UTXOToolFormattingTests {
    static func flush(_ mode: UInt32, memory: UInt64, prune: Bool) -> TraceEvent {
        ToolEvents.event(UTXOCacheFlush.tracepoint, [.signed(730_451), .unsigned(UInt64(mode)), .unsigned(22_990), .unsigned(memory), .bool(prune)])
    }

    @Test("flush-log prints the seed's header and columns: mode names, kB with two decimals, True/False")
    func flushLines() {
        var log = UTXOCacheFlushLog()
        #expect(log.header() == ["Duration (µs)   Mode       Coins Count     Memory Usage    Prune"])
        #expect(log.consume(Self.flush(1, memory: 3_323_540, prune: true)) == ["730451          IF_NEEDED  22990           3323.54 kB      True"])
        #expect(log.consume(Self.flush(3, memory: 1_383_489, prune: false)) == ["730451          ALWAYS     22990           1383.49 kB      False"])
        #expect(log.consume(Self.flush(9, memory: 5, prune: false)).first?.contains("UNKNOWN(9)") == true)
    }

    @Test("kilobytes round to two decimals", arguments: [(UInt64(0), "0.00 kB"), (4, "0.00 kB"), (5, "0.01 kB"), (1000, "1.00 kB"), (17_124_800, "17124.80 kB"), (1_383_494, "1383.49 kB")])
    func kilobytes(bytes: UInt64, text: String) {
        #expect(UTXOCacheFlushLog.kilobytes(bytes) == text)
    }

    @Test("utxo-log prints Added/Spent/Uncache with whole txid, index, token, full 64-bit value, height and Yes/No under the seed's titles")
    func utxoLines() throws {
        var log = UTXOLog()
        let txid = "409b414378be14dfd03daed6d390ffd27b4e122f1866009536d52331860fd4b1"
        let header = try #require(log.header().first)
        let added = try #require(log.consume(ToolEvents.coin(UTXOCacheAdd.tracepoint, txid: txid, index: 0, height: 1, value: 5_000_000_000, coinbase: true)).first)
        #expect(added.hasPrefix("Added   : \(txid) 0 "))
        #expect(added.hasSuffix(" 5000000000       1 Yes"))
        for title in ["Outpoint", "Token"] {
            let column = try #require(header.range(of: title)).lowerBound.utf16Offset(in: header)
            #expect(column == (title == "Outpoint" ? added.range(of: txid)! : added.range(of: "TPC")!).lowerBound.utf16Offset(in: added))
        }
        #expect(header.range(of: "Value")?.upperBound.utf16Offset(in: header) == added.range(of: "5000000000")?.upperBound.utf16Offset(in: added))
        let colour = "c1" + String(repeating: "ab", count: 32)
        let spent = try #require(log.consume(ToolEvents.coin(UTXOCacheSpent.tracepoint, txid: txid, index: 7, colour: colour, height: 9, value: Int64.max, coinbase: false)).first)
        #expect(spent.hasPrefix("Spent   : \(txid) 7 "))
        #expect(spent.contains(" \(colour) "))
        #expect(spent.hasSuffix(" 9223372036854775807       9 No"))
        let uncache = try #require(log.consume(ToolEvents.coin(UTXOCacheUncache.tracepoint, txid: txid, index: 1, height: 2, value: 1, coinbase: false)).first)
        #expect(uncache.hasPrefix("Uncache : "))
    }
}

@Suite("coin-selection-log blocks")
struct CoinSelectionFormattingTests {
    @Test("one block per send, grouped by thread, printed when its fee arrives; an unfinished send prints at the end")
    func blocks() {
        var log = CoinSelectionLog()
        #expect(log.consume(ToolEvents.event(CoinsRequested.tracepoint, [.signed(150_000_000), .string("TPC", truncated: false)])).isEmpty)
        #expect(log.consume(ToolEvents.event(CoinsRequested.tracepoint, [.signed(7), .string("TPC", truncated: false)], tid: 12)).isEmpty)
        #expect(log.consume(ToolEvents.event(SelectedCoins.tracepoint, [.string("TPC", truncated: false), .signed(150_000_880), .signed(5_000_000_000), .unsigned(1), .string("knapsack", truncated: false)])).isEmpty)
        #expect(log.consume(ToolEvents.event(ChangeInfo.tracepoint, [.signed(4_849_995_500), .string("TPC", truncated: false)])).isEmpty)
        #expect(log.consume(ToolEvents.event(FeeInfo.tracepoint, [.signed(4500), .signed(4500)])) == [
            "send 1 (process 10, thread 11)",
            "  requested 150000000 TPC",
            "  selected  5000000000 TPC in 1 coin for target 150000880 (knapsack)",
            "  change    4849995500 TPC",
            "  fee       4500 paid, 4500 needed",
        ])
        #expect(log.finish() == ["send 2 (process 10, thread 12), unfinished: no fee_info seen", "  requested 7 TPC"])
    }
}

@Suite("connectblock benchmark")
struct ConnectBlockFormattingTests {
    @Test("blocks outside the range are ignored; slow blocks in range are printed; the end height ends the run")
    func rangeAndThreshold() {
        var bench = ConnectBlockBenchmarks(startHeight: 2, endHeight: 4, thresholdMilliseconds: 1)
        #expect(bench.header() == ["ConnectBlock benchmark between height 2 and 4 inclusive"])
        #expect(bench.consume(ToolEvents.block(height: 1, microseconds: 5000, at: 1_000_000_000)).isEmpty)
        let hash2 = Hash256(bytes: Array(repeating: 2, count: 32)).hex
        #expect(bench.consume(ToolEvents.block(height: 2, microseconds: 1500, at: 2_000_000_000)) == [
            "Starting Connect Block Benchmark between height 2 and 4.",
            "Block 2 (\(hash2))    2 tx     3 ins     4 sigops took    1.500 ms",
        ])
        #expect(bench.consume(ToolEvents.block(height: 3, microseconds: 999, at: 2_500_000_000)).isEmpty)
        #expect(bench.finishedReason == nil)
        #expect(bench.tick(monotonicNanoseconds: 0) == ["BENCH    2 blk/s      4 tx/s       6 inputs/s        8 sigops/s (height 3)"])
        // The end height closes the benchmark: its last progress line, total and histogram.
        let end = bench.consume(ToolEvents.block(height: 4, microseconds: 40_000, at: 3_001_500_000))
        #expect(bench.finishedReason == "height 4 connected")
        #expect(bench.benchmarks.map(\.tookMilliseconds) == [1003])
        #expect(bench.benchmarks.map(\.pid) == [10])
        #expect(Array(end.prefix(4)) == ["Block 4 (\(Hash256(bytes: Array(repeating: 4, count: 32)).hex))    2 tx     3 ins     4 sigops took   40.000 ms",
                                         "BENCH    1 blk/s      2 tx/s       3 inputs/s        4 sigops/s (height 4)", "",
                                         "Took 1003 ms to connect the blocks between height 2 and 4."])
        #expect(bench.consume(ToolEvents.block(height: 4, microseconds: 1, at: 3_100_000_000)).isEmpty, "nothing after the end height")
        #expect(bench.tick(monotonicNanoseconds: 0).isEmpty)
        #expect(bench.finish().isEmpty, "the closing lines came with height 4")
        #expect(end.contains("Took 1003 ms to connect the blocks between height 2 and 4."))
        #expect(end.contains("3 blocks, 6 transactions, 9 inputs, 12 sigops; no height missing"))
        let histogram = Array(end.drop { $0 != "@durations: " }.dropFirst())
        let full = " |" + String(repeating: "@", count: 52) + "|", none = " |" + String(repeating: " ", count: 52) + "|"
        #expect(histogram == [
            "[0]                    1" + full,
            "[1]                    1" + full,
            "[2, 4)                 0" + none,
            "[4, 8)                 0" + none,
            "[8, 16)                0" + none,
            "[16, 32)               0" + none,
            "[32, 64)               1" + full,
        ])
        #expect(histogram.first?.hasPrefix("[0]                    1 |") == true)
        #expect(histogram.last?.hasPrefix("[32, 64)               1 |") == true)
        #expect(histogram.count == 7)
    }

    @Test("histogram buckets are bpftrace's powers of two with K/M suffixes, bars scaled to 52")
    func histogram() {
        var histogram = Histogram()
        for value: Int64 in [0, 0, 1, 3, 1024, 1500] { histogram.record(value) }
        let lines = histogram.lines()
        #expect(lines.first == "[0]                    2 |" + String(repeating: "@", count: 52) + "|")
        #expect(lines[1] == "[1]                    1 |" + String(repeating: "@", count: 26) + String(repeating: " ", count: 26) + "|")
        #expect(lines[2].hasPrefix("[2, 4)                 1 |"))
        #expect(lines.last?.hasPrefix("[1K, 2K)               2 |") == true)
        #expect(lines.contains { $0.hasPrefix("[512, 1K)              0 |") })
        #expect(Histogram.index(of: -5) == -1)
        #expect(Histogram.shortNumber(1 << 20) == "1M")
    }

    @Test("stopped before the end height, it names the last height and any missing")
    func stoppedEarly() {
        var bench = ConnectBlockBenchmarks(startHeight: 1, endHeight: 10, thresholdMilliseconds: 100)
        _ = bench.consume(ToolEvents.block(height: 1, microseconds: 10, at: 1_000_000))
        _ = bench.consume(ToolEvents.block(height: 3, microseconds: 10, at: 2_000_000))
        #expect(bench.benchmarks.first?.missingHeights == [2])
        let end = bench.finish()
        #expect(end.contains("Took 1 ms to connect the blocks between height 1 and 3 (stopped before 10)."))
        #expect(end.contains { $0.hasSuffix("heights missing: 2") })
        #expect(bench.finishedReason == nil)
    }

    @Test("no block in range: one line says so")
    func noBlock() {
        var bench = ConnectBlockBenchmarks(startHeight: 1, endHeight: 10, thresholdMilliseconds: 100)
        #expect(bench.consume(ToolEvents.block(height: 11, microseconds: 10, at: 1_000_000)).isEmpty)
        #expect(bench.tick(monotonicNanoseconds: 0).isEmpty)
        #expect(bench.finish() == ["", "No block between height 1 and 10 was connected."])
        #expect(bench.benchmark(of: 10).blocks.isEmpty)
    }
}

@Suite("connectblock: one benchmark per process")
struct ConnectBlockPerProcessTests {
    static func hash(_ height: Int32, salt: UInt8) -> String {
        Hash256(bytes: Array(repeating: UInt8(height) &+ salt, count: 32)).hex
    }

    @Test("two processes' interleaved blocks make two benchmarks, each with its own lines, total and histogram, labelled by pid")
    func twoProcesses() throws {
        var bench = ConnectBlockBenchmarks(startHeight: 1, endHeight: 3, thresholdMilliseconds: 0, pidColumn: true)
        #expect(bench.header() == ["ConnectBlock benchmark between height 1 and 3 inclusive, one per process"])
        #expect(bench.consume(ToolEvents.block(height: 1, microseconds: 500, at: 1_000_000_000, pid: 700)) == [
            "700     Starting Connect Block Benchmark between height 1 and 3.",
            "700     Block 1 (\(Self.hash(1, salt: 0)))    2 tx     3 ins     4 sigops took    0.500 ms",
        ])
        #expect(bench.consume(ToolEvents.block(height: 1, microseconds: 3000, at: 1_100_000_000, pid: 800, salt: 100)) == [
            "800     Starting Connect Block Benchmark between height 1 and 3.",
            "800     Block 1 (\(Self.hash(1, salt: 100)))    2 tx     3 ins     4 sigops took    3.000 ms",
        ])
        _ = bench.consume(ToolEvents.block(height: 2, microseconds: 500, at: 1_200_000_000, pid: 700))
        #expect(bench.tick(monotonicNanoseconds: 0) == [
            "700     BENCH    2 blk/s      4 tx/s       6 inputs/s        8 sigops/s (height 2)",
            "800     BENCH    1 blk/s      2 tx/s       3 inputs/s        4 sigops/s (height 1)",
        ])
        let end700 = bench.consume(ToolEvents.block(height: 3, microseconds: 500, at: 1_500_000_000, pid: 700))
        #expect(bench.finishedReason == nil, "process 800 has not connected height 3 yet")
        #expect(end700.allSatisfy { $0.isEmpty || $0.hasPrefix("700     ") }, "\(end700)")
        #expect(end700.contains("700     Took 500 ms to connect the blocks between height 1 and 3."))
        #expect(end700.contains("700     3 blocks, 6 transactions, 9 inputs, 12 sigops; no height missing"))
        #expect(end700.contains("700     [0]                    3 |" + String(repeating: "@", count: 52) + "|"))
        #expect(bench.tick(monotonicNanoseconds: 0) == ["800     BENCH    0 blk/s      0 tx/s       0 inputs/s        0 sigops/s (height 1)"])
        _ = bench.consume(ToolEvents.block(height: 2, microseconds: 3000, at: 2_000_000_000, pid: 800, salt: 100))
        let end800 = bench.consume(ToolEvents.block(height: 3, microseconds: 3000, at: 2_100_000_000, pid: 800, salt: 100))
        #expect(bench.finishedReason == "height 3 connected by processes 700, 800")
        #expect(end800.allSatisfy { $0.isEmpty || $0.hasPrefix("800     ") }, "\(end800)")
        let histogram800 = end800.drop { $0 != "800     @durations: " }.dropFirst()
        #expect(Array(histogram800) == ["800     [2, 4)                 3 |" + String(repeating: "@", count: 52) + "|"],
                "process 800's histogram holds its own three blocks of 3 ms only")
        #expect(bench.benchmarks.map(\.pid) == [700, 800])
        #expect(bench.consume(ToolEvents.block(height: 1, microseconds: 1, at: 2_200_000_000, pid: 900)).isEmpty,
                "once done, a process beginning the range is not benchmarked")
        #expect(bench.benchmarks.map(\.pid) == [700, 800])
        #expect(bench.benchmark(of: 800).blocks.map { $0.hash.hex } == (1...3).map { Self.hash($0, salt: 100) })
        #expect(bench.benchmark(of: 700).blocks.map { $0.hash.hex } == (1...3).map { Self.hash($0, salt: 0) })
        #expect(bench.finish().isEmpty)
    }

    @Test("a process that exits mid-range ends its benchmark; the tool is done once every benchmark begun is over")
    func processExits() {
        var bench = ConnectBlockBenchmarks(startHeight: 1, endHeight: 3, thresholdMilliseconds: 100, pidColumn: true)
        _ = bench.consume(ToolEvents.block(height: 1, microseconds: 500, at: 1_000_000_000, pid: 700))
        _ = bench.consume(ToolEvents.block(height: 1, microseconds: 500, at: 1_000_000_000, pid: 800))
        #expect(bench.processExited(999).isEmpty)
        #expect(bench.finishedReason == nil)
        _ = bench.processExited(800)
        #expect(bench.finishedReason == nil, "700 is still going")
        _ = bench.consume(ToolEvents.block(height: 2, microseconds: 500, at: 1_100_000_000, pid: 700))
        _ = bench.consume(ToolEvents.block(height: 3, microseconds: 500, at: 1_200_000_000, pid: 700))
        #expect(bench.finishedReason == "height 3 connected by process 700; process 800 exited before height 3")
        // After its exit, 800's progress shows once more for the block counted since the last tick, then no more.
        #expect(bench.tick(monotonicNanoseconds: 0) == ["800     BENCH    1 blk/s      2 tx/s       3 inputs/s        4 sigops/s (height 1)"])
        #expect(bench.tick(monotonicNanoseconds: 0).isEmpty)
        let end = bench.finish()
        #expect(end.contains("800     Took 0 ms to connect the blocks between height 1 and 1 (process exited before 3)."))
        #expect(bench.benchmark(of: 800).processExited && !bench.benchmark(of: 800).isComplete)
        #expect(bench.benchmark(of: 700).isComplete && !bench.benchmark(of: 700).processExited)
    }

    @Test("every JSON object carries the pid of its process")
    func json() throws {
        var bench = ConnectBlockBenchmarks(startHeight: 1, endHeight: 2, thresholdMilliseconds: 0, json: true, pidColumn: true)
        #expect(bench.header().isEmpty)
        var lines = bench.consume(ToolEvents.block(height: 1, microseconds: 500, at: 1_000_000_000, pid: 700))
        lines += bench.consume(ToolEvents.block(height: 1, microseconds: 500, at: 1_000_000_000, pid: 800))
        lines += bench.tick(monotonicNanoseconds: 0)
        lines += bench.consume(ToolEvents.block(height: 2, microseconds: 500, at: 1_100_000_000, pid: 700))
        lines += bench.finish()
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let events = objects.map { "\($0["pid"] as? Int ?? -1) \($0["event"] as? String ?? "?")" }
        #expect(events == ["700 start", "700 block", "800 start", "800 block", "700 bench", "800 bench", "700 block", "700 bench", "700 end",
                           "800 end"])
        let ends = objects.filter { $0["event"] as? String == "end" }
        #expect(ends.map { $0["blocks"] as? Int } == [2, 1])
        #expect(ends.map { $0["complete"] as? Bool } == [true, false])
    }
}

@Suite("logs with a PID column (every process of a binary traced)")
struct PIDColumnTests {
    @Test("p2p-log starts each line with the pid in a column seven wide; JSON carries the pid; without the column the seed's line")
    func p2pLog() throws {
        var log = P2PTrafficLog(pidColumn: true)
        #expect(log.consume(ToolEvents.message(false, type: "ping", bytes: Array(repeating: 1, count: 8), pid: 48213))
                == ["48213   outbound 'ping' msg to peer 11 (Out-----M-Tx, 127.0.0.1:1234) with 8 bytes"])
        #expect(log.consume(ToolEvents.message(true, type: "pong", bytes: Array(repeating: 1, count: 8), pid: 4_194_304))
                == ["4194304 inbound 'pong' msg from peer 11 (Out-----M-Tx, 127.0.0.1:1234) with 8 bytes"])
        var json = P2PTrafficLog(json: true, pidColumn: true)
        let line = try #require(json.consume(ToolEvents.message(true, type: "pong", bytes: [1], pid: 48230)).first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["pid"] as? Int == 48230)
        var plain = P2PTrafficLog()
        #expect(plain.consume(ToolEvents.message(true, type: "pong", bytes: [1], pid: 48230)).first?.hasPrefix("inbound 'pong'") == true)
    }

    @Test("raw-p2p labels each message and counts per process, then over all")
    func rawP2P() {
        var log = RawP2PLog(pidColumn: true)
        let first = log.consume(ToolEvents.message(true, type: "ping", bytes: [1, 2], pid: 800)).first ?? ""
        #expect(first == "800     inbound msg 'ping' from peer 11 (Out-----M-Tx, 127.0.0.1:1234) with 2 bytes: 0102")
        let cut = log.consume(ToolEvents.message(false, type: "block", bytes: [0xab], declared: 5, pid: 700)).first ?? ""
        #expect(cut.hasPrefix("700     Warning: incomplete message (only 1 out of 5 bytes)! outbound msg 'block'"))
        _ = log.consume(ToolEvents.message(true, type: "ping", bytes: [3], pid: 800))
        #expect(log.finish() == [
            "800     2 messages: 2 whole, 0 incomplete",
            "700     1 messages: 0 whole, 1 incomplete",
            "all     3 messages: 2 whole, 1 incomplete",
        ])
        #expect(log.countsByPID[800] == RawP2PLog.Counts(complete: 2, incomplete: 0))
        var one = RawP2PLog(pidColumn: true)
        _ = one.consume(ToolEvents.message(true, type: "ping", bytes: [1], pid: 800))
        #expect(one.finish() == ["800     1 messages: 1 whole, 0 incomplete"])
    }

    @Test("flush-log and utxo-log put PID over the column and keep their other columns aligned")
    func columnTitles() throws {
        var flush = UTXOCacheFlushLog(pidColumn: true)
        #expect(flush.header() == ["PID     Duration (µs)   Mode       Coins Count     Memory Usage    Prune"])
        let event = ToolEvents.event(UTXOCacheFlush.tracepoint, [.signed(717), .unsigned(3), .unsigned(3), .unsigned(262_340), .bool(false)], pid: 48213)
        #expect(flush.consume(event) == ["48213   717             ALWAYS     3               262.34 kB       False"])

        var utxo = UTXOLog(pidColumn: true)
        let header = try #require(utxo.header().first)
        #expect(header.hasPrefix("PID     OP        Outpoint"))
        let txid = String(repeating: "ab", count: 32)
        let added = try #require(utxo.consume(ToolEvents.coin(UTXOCacheAdd.tracepoint, txid: txid, index: 0, height: 1, value: 5_000_000_000,
                                                              coinbase: true, pid: 48230)).first)
        #expect(added.hasPrefix("48230   Added   : \(txid) 0 "))
        #expect(header.range(of: "Value")?.upperBound.utf16Offset(in: header) == added.range(of: "5000000000")?.upperBound.utf16Offset(in: added))
    }

    @Test("coin-selection-log numbers sends per process and labels every line of a block")
    func coinSelection() {
        var log = CoinSelectionLog(pidColumn: true)
        func requested(_ pid: Int32, _ tid: Int32) -> TraceEvent {
            ToolEvents.event(CoinsRequested.tracepoint, [.signed(7), .string("TPC", truncated: false)], pid: pid, tid: tid)
        }
        func fee(_ pid: Int32, _ tid: Int32) -> TraceEvent {
            ToolEvents.event(FeeInfo.tracepoint, [.signed(1), .signed(1)], pid: pid, tid: tid)
        }
        #expect(log.consume(requested(700, 1)).isEmpty)
        #expect(log.consume(requested(800, 2)).isEmpty)
        #expect(log.consume(fee(800, 2)) == ["800     send 1 (process 800, thread 2)", "800       requested 7 TPC", "800       fee       1 paid, 1 needed"])
        #expect(log.consume(fee(700, 1)).first == "700     send 1 (process 700, thread 1)")
        #expect(log.consume(requested(700, 1)).isEmpty)
        #expect(log.consume(requested(800, 3)).isEmpty)
        #expect(log.finish() == [
            "700     send 2 (process 700, thread 1), unfinished: no fee_info seen", "700       requested 7 TPC",
            "800     send 2 (process 800, thread 3), unfinished: no fee_info seen", "800       requested 7 TPC",
        ])
        #expect(log.sendsByPID == [700: 2, 800: 2])
    }

    @Test("an undecodable event names its process")
    func undecodable() throws {
        var log = P2PTrafficLog(pidColumn: true)
        let broken = ToolEvents.event(InboundMessage.tracepoint, [.string("x", truncated: false)], pid: 4321)
        let line = try #require(log.consume(broken).first)
        #expect(line.hasPrefix("4321    cannot decode event: "))
        var json = P2PTrafficLog(json: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data((json.consume(broken).first ?? "").utf8)) as? [String: Any])
        #expect(object["pid"] as? Int == 4321 && object["error"] is String)
    }
}
