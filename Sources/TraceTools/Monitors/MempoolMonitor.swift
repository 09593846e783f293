import Foundation
import TraceHarness

/// The mempool monitor's model: totals of transactions added, removed,
/// replaced and rejected (counts, fees and sizes summed) and the most recent
/// events, fed with the `mempool:*` events.
public struct MempoolActivity: Sendable {
    /// What happened to a transaction.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case added, removed, replaced, rejected
    }

    /// One mempool event as the monitor lists it.
    public struct Event: Sendable, Hashable {
        public var kind: Kind
        public var date: Date
        public var txid: String
        /// Bytes (nil for a rejection, which the tracepoint gives no size).
        public var size: Int64?
        /// Tapyrus units (nil for a rejection).
        public var fee: Int64?
        /// The removal or rejection reason, or for a replacement the txid
        /// of the transaction replacing it.
        public var detail: String

        public init(kind: Kind, date: Date, txid: String, size: Int64?, fee: Int64?, detail: String = "") {
            self.kind = kind
            self.date = date
            self.txid = txid
            self.size = size
            self.fee = fee
            self.detail = detail
        }

        /// The event of a `mempool:*` trace event; nil for other events.
        public init?(_ event: TraceEvent) {
            if let added = try? event.as(MempoolAdded.self) {
                self.init(kind: .added, date: event.date, txid: added.txid.hex, size: Int64(added.size), fee: added.fee)
            } else if let removed = try? event.as(MempoolRemoved.self) {
                self.init(kind: .removed, date: event.date, txid: removed.txid.hex, size: Int64(removed.size), fee: removed.fee, detail: removed.reason)
            } else if let replaced = try? event.as(MempoolReplaced.self) {
                self.init(kind: .replaced, date: event.date, txid: replaced.replacedTxid.hex, size: Int64(replaced.replacedSize),
                          fee: replaced.replacedFee, detail: "by \(replaced.replacementTxid.hex) (\(replaced.replacementSize) B, fee \(replaced.replacementFee))")
            } else if let rejected = try? event.as(MempoolRejected.self) {
                self.init(kind: .rejected, date: event.date, txid: rejected.txid.hex, size: nil, fee: nil, detail: rejected.reason)
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

    /// Recent events kept.
    public let recentLimit: Int
    public private(set) var totals: [Kind: Totals] = [:]
    /// The most recent events, oldest first.
    public private(set) var recent: [Event] = []

    public init(recentLimit: Int = 200) {
        self.recentLimit = max(1, recentLimit)
    }

    /// The totals of `kind`.
    public func totals(_ kind: Kind) -> Totals { totals[kind] ?? Totals() }

    /// Records a trace event; other than `mempool:*` events are ignored.
    @discardableResult
    public mutating func record(_ event: TraceEvent) -> Event? {
        guard let mempoolEvent = Event(event) else { return nil }
        record(mempoolEvent)
        return mempoolEvent
    }

    /// Records one mempool event.
    public mutating func record(_ event: Event) {
        var total = totals[event.kind] ?? Totals()
        total.count += 1
        total.fees &+= event.fee ?? 0
        total.bytes &+= event.size ?? 0
        if event.kind == .removed || event.kind == .rejected {
            total.reasons[event.detail, default: 0] += 1
        }
        totals[event.kind] = total
        recent.append(event)
        if recent.count > recentLimit { recent.removeFirst(recent.count - recentLimit) }
    }

    /// The smallest terminal the screen is drawn in.
    public static let minimumSize = (width: 60, height: 10)

    /// The live screen: totals, then the most recent events that fit, as
    /// `height` lines of exactly `width` columns.
    public func render(width: Int, height: Int, status: String = "") -> ScreenFrame {
        guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
            return ScreenFrame(lines: [ScreenText.tooSmall(width: width, height: height, minimum: Self.minimumSize)], highlighted: nil)
        }
        var lines = [" Mempool Monitor", ""]
        lines.append(" " + ScreenText.fit("EVENT", 10) + ScreenText.right("COUNT", 8) + ScreenText.right("FEES (units)", 16)
                     + ScreenText.right("SIZE (bytes)", 14) + "  REASONS")
        for kind in Kind.allCases {
            let total = totals(kind)
            let reasons = total.reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key.isEmpty ? "?" : $0.key) \($0.value)" }.joined(separator: ", ")
            let sized = kind != .rejected
            lines.append(" " + ScreenText.fit(kind.rawValue, 10) + ScreenText.right(String(total.count), 8)
                         + ScreenText.right(sized ? String(total.fees) : "-", 16) + ScreenText.right(sized ? String(total.bytes) : "-", 14)
                         + (reasons.isEmpty ? "" : "  " + reasons))
        }
        lines.append("")
        lines.append(" RECENT EVENTS")
        let room = max(0, height - lines.count - 1)
        for event in recent.suffix(room) {
            lines.append(" " + Self.eventText(event))
        }
        while lines.count < height - 1 { lines.append("") }
        lines.append(" \(recent.count < recentLimit ? "" : "last \(recentLimit) kept · ")\(status.isEmpty ? "" : status + " · ")q/ESC quit")
        return ScreenFrame(lines: lines.prefix(height).map { ScreenText.fit($0, width) }, highlighted: nil)
    }

    /// One recent event: time, kind, txid, size, fee and reason.
    public static func eventText(_ event: Event) -> String {
        var text = MonitorTime.clock(event.date) + "  " + ScreenText.fit(event.kind.rawValue, 9) + event.txid
        if let size = event.size { text += "  \(size) B" }
        if let fee = event.fee { text += "  fee \(fee)" }
        if !event.detail.isEmpty { text += "  \(event.detail)" }
        return text
    }
}
