/// The tracepoints the harness knows by name, with their declarations.
public struct TracepointCatalogue: Sendable {
    public let tracepoints: [Tracepoint]
    private let byProbe: [ProbeName: Tracepoint]

    /// A catalogue of the given typed events' declarations.
    public init(_ events: [any CataloguedEvent.Type]) {
        self.init(tracepoints: events.map { $0.tracepoint })
    }

    public init(tracepoints: [Tracepoint]) {
        self.tracepoints = tracepoints
        self.byProbe = Dictionary(tracepoints.map { ($0.probe, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The declaration of `probe`, if the catalogue has one.
    public subscript(probe: ProbeName) -> Tracepoint? { byProbe[probe] }

    /// Every tracepoint of tapyrusd: one line per tracepoint.
    public static let tapyrusd = TracepointCatalogue([
        InboundMessage.self,
        OutboundMessage.self,
        BlockConnected.self,
        UTXOCacheFlush.self,
        UTXOCacheAdd.self,
        UTXOCacheSpent.self,
        UTXOCacheUncache.self,
        MempoolAdded.self,
        MempoolRemoved.self,
        MempoolReplaced.self,
        MempoolRejected.self,
        CoinsRequested.self,
        SelectedCoins.self,
        ChangeInfo.self,
        FeeInfo.self,
    ])
}
