import Foundation
import TraceHarness

/// The mempool monitor's model: totals of transactions added, removed,
/// replaced and rejected (counts, fees and sizes summed) per node (traced
/// process) and over all, and the most recent events with their node, fed
/// with the `mempool:*` events.
public struct MempoolActivity: Sendable {
    /// What happened to a transaction.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case added, removed, replaced, rejected
    }

    /// One mempool event as the monitor lists it.
    public struct Event: Sendable, Hashable {
        public var kind: Kind
        /// The process whose mempool it is.
        public var pid: Int32
        public var date: Date
        public var txid: String
        /// Bytes (nil for a rejection, which the tracepoint gives no size).
        public var size: Int64?
        /// Tapyrus units (nil for a rejection).
        public var fee: Int64?
        /// The removal or rejection reason, or for a replacement the txid
        /// of the transaction replacing it.
        public var detail: String

        public init(kind: Kind, pid: Int32, date: Date, txid: String, size: Int64?, fee: Int64?, detail: String = "") {
            self.kind = kind
            self.pid = pid
            self.date = date
            self.txid = txid
            self.size = size
            self.fee = fee
            self.detail = detail
        }

        /// The event of a `mempool:*` trace event; nil for other events.
        public init?(_ event: TraceEvent) {
            if let added = try? event.as(MempoolAdded.self) {
                self.init(kind: .added, pid: event.pid, date: event.date, txid: added.txid.hex, size: Int64(added.size), fee: added.fee)
            } else if let removed = try? event.as(MempoolRemoved.self) {
                self.init(kind: .removed, pid: event.pid, date: event.date, txid: removed.txid.hex, size: Int64(removed.size), fee: removed.fee, detail: removed.reason)
            } else if let replaced = try? event.as(MempoolReplaced.self) {
                self.init(kind: .replaced, pid: event.pid, date: event.date, txid: replaced.replacedTxid.hex, size: Int64(replaced.replacedSize),
                          fee: replaced.replacedFee, detail: "by \(replaced.replacementTxid.hex) (\(replaced.replacementSize) B, fee \(replaced.replacementFee))")
            } else if let rejected = try? event.as(MempoolRejected.self) {
                self.init(kind: .rejected, pid: event.pid, date: event.date, txid: rejected.txid.hex, size: nil, fee: nil, detail: rejected.reason)
            } else {
                return nil
            }
        }
    }

    /// Totals of one kind of event.
    public struct Totals: Sendable, Hashable {
        public var count = 0
        public var fees: Int64 = 0
        public var bytes: Int64 = 0
        /// Counts per removal or rejection reason.
        public var reasons: [String: Int] = [:]

        public init(count: Int = 0, fees: Int64 = 0, bytes: Int64 = 0, reasons: [String: Int] = [:]) {
            self.count = count
            self.fees = fees
            self.bytes = bytes
            self.reasons = reasons
        }
    }

    /// One traced process seen with a mempool event, and its totals.
    public struct Node: Sendable, Hashable {
        public var pid: Int32
        /// Whether the process was seen to exit.
        public var exited = false
        public var totals: [Kind: Totals] = [:]

        /// The totals of `kind`.
        public func totals(_ kind: Kind) -> Totals { totals[kind] ?? Totals() }
    }

    /// Recent events kept.
    public let recentLimit: Int
    /// Totals over every node.
    public private(set) var totals: [Kind: Totals] = [:]
    /// The nodes in the order their first event was seen.
    public private(set) var nodes: [Node] = []
    private var nodeIndex: [Int32: Int] = [:]
    /// The most recent events of every node, oldest first.
    public private(set) var recent: [Event] = []

    public init(recentLimit: Int = 200) {
        self.recentLimit = max(1, recentLimit)
    }

    /// The totals of `kind` over every node.
    public func totals(_ kind: Kind) -> Totals { totals[kind] ?? Totals() }

    /// The node of process `pid`, if it had a mempool event.
    public func node(_ pid: Int32) -> Node? {
        nodeIndex[pid].map { nodes[$0] }
    }

    /// Records a trace event; other than `mempool:*` events are ignored.
    @discardableResult
    public mutating func record(_ event: TraceEvent) -> Event? {
        guard let mempoolEvent = Event(event) else { return nil }
        record(mempoolEvent)
        return mempoolEvent
    }

    /// Records one mempool event, in its node's totals and over all.
    public mutating func record(_ event: Event) {
        if nodeIndex[event.pid] == nil {
            nodeIndex[event.pid] = nodes.count
            nodes.append(Node(pid: event.pid))
        }
        let index = nodeIndex[event.pid] ?? 0
        Self.add(event, to: &totals)
        Self.add(event, to: &nodes[index].totals)
        recent.append(event)
        if recent.count > recentLimit { recent.removeFirst(recent.count - recentLimit) }
    }

    private static func add(_ event: Event, to totals: inout [Kind: Totals]) {
        var total = totals[event.kind] ?? Totals()
        total.count += 1
        total.fees &+= event.fee ?? 0
        total.bytes &+= event.size ?? 0
        if event.kind == .removed || event.kind == .rejected {
            total.reasons[event.detail, default: 0] += 1
        }
        totals[event.kind] = total
    }

    /// Marks node `pid` as exited; its totals stay. A pid with no event is ignored.
    public mutating func processExited(_ pid: Int32) {
        guard let index = nodeIndex[pid] else { return }
        nodes[index].exited = true
    }

    /// The smallest terminal the screen is drawn in.
    public static let minimumSize = (width: 60, height: 10)
    /// Width of the PID column: the pid, and `exited` once the process is gone
    /// (`all` on the rows of the totals over every node).
    static let pidWidth = PIDColumn.width + 8

    /// The live screen: each node's totals (and their sum, with several
    /// nodes), then the most recent events that fit, as `height` lines of
    /// exactly `width` columns.
    public func render(width: Int, height: Int, status: String = "") -> ScreenFrame {
        guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
            return ScreenFrame(lines: [ScreenText.tooSmall(width: width, height: height, minimum: Self.minimumSize)], highlighted: nil)
        }
        var lines = [" Mempool Monitor", ""]
        lines.append(" " + ScreenText.fit("PID", Self.pidWidth) + ScreenText.fit("EVENT", 10) + ScreenText.right("COUNT", 8)
                     + ScreenText.right("FEES (units)", 16) + ScreenText.right("SIZE (bytes)", 14) + "  REASONS")
        for node in nodes {
            lines += Self.totalsRows(node.totals, pid: "\(node.pid)\(node.exited ? " exited" : "")")
        }
        if nodes.count != 1 {
            lines += Self.totalsRows(totals, pid: nodes.isEmpty ? "" : "all")
        }
        lines.append("")
        lines.append(" RECENT EVENTS")
        let room = max(0, height - lines.count - 1)
        for event in recent.suffix(room) {
            lines.append(" " + Self.eventText(event))
        }
        lines = Array(lines.prefix(height - 1))
        while lines.count < height - 1 { lines.append("") }
        let counted = "\(nodes.count) \(nodes.count == 1 ? "node" : "nodes")"
        lines.append(" \(counted) · \(recent.count < recentLimit ? "" : "last \(recentLimit) kept · ")\(status.isEmpty ? "" : status + " · ")q/ESC quit")
        return ScreenFrame(lines: lines.map { ScreenText.fit($0, width) }, highlighted: nil)
    }

    /// The four rows of one node's (or every node's) totals.
    private static func totalsRows(_ totals: [Kind: Totals], pid: String) -> [String] {
        Kind.allCases.map { kind in
            let total = totals[kind] ?? Totals()
            let reasons = total.reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key.isEmpty ? "?" : $0.key) \($0.value)" }.joined(separator: ", ")
            let sized = kind != .rejected
            return " " + ScreenText.fit(pid, pidWidth) + ScreenText.fit(kind.rawValue, 10) + ScreenText.right(String(total.count), 8)
                + ScreenText.right(sized ? String(total.fees) : "-", 16) + ScreenText.right(sized ? String(total.bytes) : "-", 14)
                + (reasons.isEmpty ? "" : "  " + reasons)
        }
    }

    /// One recent event: time, node, kind, txid, size, fee and reason.
    public static func eventText(_ event: Event) -> String {
        var text = MonitorTime.clock(event.date) + "  " + ScreenText.fit("\(event.pid)", PIDColumn.width + 1)
            + ScreenText.fit(event.kind.rawValue, 9) + event.txid
        if let size = event.size { text += "  \(size) B" }
        if let fee = event.fee { text += "  fee \(fee)" }
        if !event.detail.isEmpty { text += "  \(event.detail)" }
        return text
    }

    /// The totals as printed on standard error after the screen is gone:
    /// each node's, then over all processes when there are several (or none).
    public var summaryLines: [String] {
        func lines(_ totals: [Kind: Totals], _ who: String) -> [String] {
            Kind.allCases.map { kind in
                let total = totals[kind] ?? Totals()
                return "  \(who) \(kind.rawValue): \(total.count) transactions, fees \(total.fees), \(total.bytes) bytes"
            }
        }
        let each = nodes.flatMap { lines($0.totals, "process \($0.pid)\($0.exited ? " (exited)" : "")") }
        return nodes.count == 1 ? each : each + lines(totals, "all processes")
    }
}
