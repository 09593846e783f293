/// The contents of a dev node's `tapyrus.conf`.
///
/// Renders `dev=1` at the top and every other option in the `[dev]` section:
/// RPC server on, P2P and RPC bound to 127.0.0.1 only on the given ports, no
/// DNS seeds, no address discovery, no console logging (the log is `debug.log`)
/// and a keypool of 1 (filling the default 1,000-key pool makes a fresh wallet's
/// first start about 0.75 s slower). An extra option with the same key as a
/// default replaces the default.
public struct NodeConfiguration: Sendable, Hashable {
    /// The P2P port.
    public var p2pPort: UInt16
    /// The RPC port.
    public var rpcPort: UInt16
    /// A network id other than the default dev id, if any.
    public var networkID: UInt32?
    /// Further `key=value` lines for the `[dev]` section, in order (e.g. `("txindex", "1")`).
    public var extraOptions: [(key: String, value: String)]

    /// Creates a configuration.
    public init(p2pPort: UInt16, rpcPort: UInt16, networkID: UInt32? = nil, extraOptions: [(key: String, value: String)] = []) {
        self.p2pPort = p2pPort
        self.rpcPort = rpcPort
        self.networkID = networkID
        self.extraOptions = extraOptions
    }

    /// The options in the `[dev]` section, in order.
    public var sectionOptions: [(key: String, value: String)] {
        var options: [(key: String, value: String)] = [
            ("server", "1"),
            ("listen", "1"),
            ("bind", "127.0.0.1"),
            ("port", String(p2pPort)),
            ("rpcbind", "127.0.0.1"),
            ("rpcallowip", "127.0.0.1"),
            ("rpcport", String(rpcPort)),
            ("dnsseed", "0"),
            ("discover", "0"),
            ("listenonion", "0"),
            ("upnp", "0"),
            ("printtoconsole", "0"),
            ("shrinkdebugfile", "0"),
            ("keypool", "1"),
        ]
        if let networkID { options.append(("networkid", String(networkID))) }
        let overridden = Set(extraOptions.map(\.key))
        options.removeAll { overridden.contains($0.key) }
        options.append(contentsOf: extraOptions)
        return options
    }

    /// The file's text.
    public func rendered() -> String {
        var lines = ["# Written by tapyrus-trace NodeControl for one test node.", "dev=1", "", "[dev]"]
        lines += sectionOptions.map { "\($0.key)=\($0.value)" }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func == (lhs: NodeConfiguration, rhs: NodeConfiguration) -> Bool {
        lhs.rendered() == rhs.rendered()
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rendered())
    }
}
