import ArgumentParser

@main
struct TapyrusTrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tapyrus-trace",
        abstract: "Trace, verify and benchmark the USDT tracepoints of tapyrusd."
    )
}
