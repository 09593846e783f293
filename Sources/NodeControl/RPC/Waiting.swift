/// A bounded wait that ran out before its condition held.
public struct WaitTimeout: Error, Sendable, CustomStringConvertible {
    /// What was waited for.
    public let condition: String
    /// The bound, in seconds.
    public let seconds: Double
    /// The last state seen, to tell how far it got.
    public let lastObserved: String

    public var description: String {
        "timed out after \(seconds) s waiting for \(condition); last seen: \(lastObserved)"
    }
}

/// Polls `check` until it returns `nil` (condition met) or the bound passes.
///
/// - Parameters:
///   - condition: Describes what is awaited, for the error.
///   - timeout: The bound.
///   - interval: The pause between checks.
///   - check: Returns `nil` when the condition holds, else a description of what it saw.
///     Errors it throws end the wait, except those `retrying` accepts.
public func waitUntil(_ condition: String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(50),
                      retrying: @Sendable (any Error) -> Bool = { _ in false },
                      _ check: @Sendable () async throws -> String?) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var last = "nothing yet"
    while true {
        do {
            guard let observed = try await check() else { return }
            last = observed
        } catch where retrying(error) {
            last = "\(error)"
        }
        if clock.now >= deadline {
            throw WaitTimeout(condition: condition, seconds: timeout.seconds, lastObserved: last)
        }
        try await Task.sleep(for: interval)
    }
}

extension RPCClient {
    /// Waits until the block count is at least `height`.
    public func waitForBlockCount(atLeast height: Int, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("block count >= \(height) on \(endpoint)", timeout: timeout) {
            let count = try await getBlockCount()
            return count >= height ? nil : "block count \(count)"
        }
    }

    /// Waits until every txid in `txids` is in the mempool.
    public func waitForMempool(containing txids: Set<String>, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("\(txids.count) transaction(s) in the mempool of \(endpoint)", timeout: timeout) {
            let present = Set(try await getRawMempool())
            let missing = txids.subtracting(present)
            return missing.isEmpty ? nil : "missing \(missing.sorted())"
        }
    }

    /// Waits until the mempool holds exactly `count` transactions.
    public func waitForMempoolSize(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("mempool size \(count) on \(endpoint)", timeout: timeout) {
            let size = try await getRawMempool().count
            return size == count ? nil : "mempool size \(size)"
        }
    }
}
