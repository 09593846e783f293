import Foundation
import TraceHarness

/// `tapyrus-trace coin-selection-log`: one block of lines per wallet send:
/// the coins requested, the coins selected, the change made and the fee.
///
/// The wallet fires `coins_requested`, `selected_coins`, `change_info` and
/// `fee_info` on one thread for one send; events are grouped per thread and a
/// block is printed when its `fee_info` arrives (or, unfinished, at the end).
/// Sends are numbered per process; with a PID column every line of a block
/// starts with its process's pid.
public struct CoinSelectionLog: TraceTool {
    /// One wallet send's coin-selection events.
    public struct Send: Sendable {
        /// The send's number among its process's sends, from 1.
        public var number: Int
        public var pid: Int32
        public var tid: Int32
        public var date: Date
        public var requested: [CoinsRequested] = []
        public var selected: [SelectedCoins] = []
        public var change: [ChangeInfo] = []
        public var fee: FeeInfo?
    }

    /// A wallet thread of a process.
    private struct WalletThread: Hashable {
        var pid: Int32
        var tid: Int32
    }

    /// JSON Lines instead of text.
    public var json: Bool
    /// Text lines start with the process's pid (see ``PIDColumn``).
    public var pidColumn: Bool
    public let probes = [CoinsRequested.tracepoint.probe, SelectedCoins.tracepoint.probe,
                         ChangeInfo.tracepoint.probe, FeeInfo.tracepoint.probe]
    private var open: [WalletThread: Send] = [:]
    /// Sends begun per process, by pid.
    public private(set) var sendsByPID: [Int32: Int] = [:]
    /// Sends begun over all processes (the order of unfinished blocks).
    private var begun = 0
    private var order: [WalletThread: Int] = [:]

    public init(json: Bool = false, pidColumn: Bool = false) {
        self.json = json
        self.pidColumn = pidColumn
    }

    public mutating func consume(_ event: TraceEvent) -> [String] {
        guard probes.contains(event.probe) else { return [] }
        let thread = WalletThread(pid: event.pid, tid: event.tid)
        var send = open[thread] ?? {
            sendsByPID[event.pid, default: 0] += 1
            begun += 1
            order[thread] = begun
            return Send(number: sendsByPID[event.pid] ?? 1, pid: event.pid, tid: event.tid, date: event.date)
        }()
        do {
            if let requested = try event.as(CoinsRequested.self) {
                send.requested.append(requested)
            } else if let selected = try event.as(SelectedCoins.self) {
                send.selected.append(selected)
            } else if let change = try event.as(ChangeInfo.self) {
                send.change.append(change)
            } else if let fee = try event.as(FeeInfo.self) {
                send.fee = fee
                open[thread] = nil
                order[thread] = nil
                return lines(for: send)
            }
        } catch {
            return [ToolText.undecodable(error, event: event, json: json, pidColumn: pidColumn)]
        }
        open[thread] = send
        return []
    }

    /// Sends still waiting for their fee, printed as they are, in the order they began.
    public mutating func finish() -> [String] {
        let unfinished = open.sorted { (order[$0.key] ?? 0) < (order[$1.key] ?? 0) }.map(\.value)
        open.removeAll()
        order.removeAll()
        return unfinished.flatMap { lines(for: $0) }
    }

    /// The block of lines for one send (one JSON object with `--json`).
    public func lines(for send: Send) -> [String] {
        if json {
            var members: [(String, String)] = [
                ("send", "\(send.number)"),
                ("time", EventFormatter.jsonString(EventFormatter.isoTime(send.date))),
                ("pid", "\(send.pid)"), ("tid", "\(send.tid)"),
                ("requested", "[" + send.requested.map { ToolText.object([("value", "\($0.value)"), ("token", ToolText.string($0.colourID))]) }.joined(separator: ",") + "]"),
                ("selected", "[" + send.selected.map {
                    ToolText.object([("token", ToolText.string($0.colourID)), ("target", "\($0.target)"), ("input_value", "\($0.inputValue)"),
                                     ("coin_count", "\($0.coinCount)"), ("algorithm", ToolText.string($0.algorithm))])
                }.joined(separator: ",") + "]"),
                ("change", "[" + send.change.map { ToolText.object([("value", "\($0.change)"), ("token", ToolText.string($0.colourID))]) }.joined(separator: ",") + "]"),
            ]
            if let fee = send.fee {
                members.append(("fee", ToolText.object([("paid", "\(fee.feePaid)"), ("needed", "\(fee.feeNeeded)")])))
            } else {
                members.append(("fee", "null"))
            }
            return [ToolText.object(members)]
        }
        var out = ["send \(send.number) (process \(send.pid), thread \(send.tid))\(send.fee == nil ? ", unfinished: no fee_info seen" : "")"]
        for requested in send.requested {
            out.append("  requested \(requested.value) \(requested.colourID)")
        }
        for selected in send.selected {
            let coins = selected.coinCount == 1 ? "1 coin" : "\(selected.coinCount) coins"
            out.append("  selected  \(selected.inputValue) \(selected.colourID) in \(coins) for target \(selected.target) (\(selected.algorithm))")
        }
        for change in send.change {
            out.append("  change    \(change.change) \(change.colourID)")
        }
        if let fee = send.fee {
            out.append("  fee       \(fee.feePaid) paid, \(fee.feeNeeded) needed")
        }
        return out.map { ToolText.labelled($0, pid: send.pid, shown: pidColumn) }
    }
}
