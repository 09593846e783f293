/// An amount of TPC in tapyrus units (1 TPC = 100,000,000 units), or a token count.
public struct Amount: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    /// The number of smallest units.
    public var units: Int64

    /// Creates an amount of `units` smallest units.
    public init(units: Int64) { self.units = units }
    public init(integerLiteral value: Int64) { self.units = value }

    /// Creates an amount of whole TPC.
    public static func tpc(_ coins: Int64) -> Amount { Amount(units: coins * 100_000_000) }

    /// Reads an amount the node printed as a decimal TPC number.
    public init(rpcValue value: Double) {
        units = Int64((value * 100_000_000).rounded())
    }

    /// The amount in decimal TPC, as the node prints and reads it.
    public var coins: Double { Double(units) / 100_000_000 }

    public init(from decoder: any Decoder) throws {
        self.init(rpcValue: try decoder.singleValueContainer().decode(Double.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(coins)
    }

    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.units < rhs.units }
    public static func + (lhs: Amount, rhs: Amount) -> Amount { Amount(units: lhs.units + rhs.units) }
    public static func - (lhs: Amount, rhs: Amount) -> Amount { Amount(units: lhs.units - rhs.units) }

    public var description: String {
        let sign = units < 0 ? "-" : ""
        let magnitude = units.magnitude
        let fraction = String(magnitude % 100_000_000)
        return "\(sign)\(magnitude / 100_000_000).\(String(repeating: "0", count: 8 - fraction.count))\(fraction) TPC"
    }
}
