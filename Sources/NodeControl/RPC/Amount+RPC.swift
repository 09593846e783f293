import TapyrusEncoding

extension Amount {
    /// The value as the node expects a TPC amount in a parameter.
    public var rpcValue: JSONValue { .double(coins) }
}
