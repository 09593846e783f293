import Foundation
import TapyrusEncoding
import NodeControl
import TraceHarness

/// Ground truth for the duration and memory `utxocache:utxocache_flush`
/// reports, where no RPC returns them.
///
/// Duration: `FlushStateToDisk` takes `nNow` before it writes anything and
/// fires the tracepoint with `GetTimeMicros() − nNow` once the coins are
/// written. The coin database logs (`-debug=coindb -logtimemicros`) "Writing
/// final batch" before and "Committed …" after the write inside that span, so
/// the span between those two lines bounds the duration from below, in
/// microseconds; the wall time of the call that caused the flush bounds it
/// from above. A duration in milliseconds falls below the first, one in
/// nanoseconds above the second.
///
/// Memory: `CCoinsViewCache::DynamicMemoryUsage()` is the pool allocator's
/// chunks (each `MallocUsage(262144)` plus its list node,
/// `MallocUsage(3 × 8)`), the bucket array (`MallocUsage(8 × buckets)`) and
/// the coins' own script allocations (none for scripts of at most 28 bytes,
/// which a prevector holds inline). `UpdateTip` logs it after every block as
/// `cache=…MiB` with one decimal, and a full flush rebuilds the cache empty:
/// one chunk and one bucket, 262,240 bytes.
enum FlushTruth {
    /// `memusage::MallocUsage` on 64-bit glibc: the size rounded up to 16 bytes with 16 of overhead.
    static func mallocUsage(_ bytes: UInt64) -> UInt64 {
        bytes == 0 ? 0 : ((bytes + 31) >> 4) << 4
    }

    /// One pool chunk (262,144 bytes) and the list node that holds it.
    static let chunkBytes = mallocUsage(262_144) + mallocUsage(3 * 8)

    /// The memory of a coins cache rebuilt empty by a full flush: one chunk, one bucket.
    static let emptyCacheBytes = chunkBytes + mallocUsage(8)

    /// Checks `event`'s duration against the coin database write logged for
    /// it and the wall time of the call that caused it.
    static func checkDuration(_ event: UTXOCacheFlush, write: NodeLog.CoinDatabaseWrite?, wallMicroseconds: Int64,
                              _ label: String, _ check: Check) {
        guard let write else {
            check.fail("\(label): debug.log (-debug=coindb) has no coin database write for this flush")
            return
        }
        let written = write.committedMicroseconds - write.startedMicroseconds
        check.within(event.durationMicroseconds, written...wallMicroseconds,
                     "\(label): flush duration in µs is at least the \(written) µs debug.log shows the coin database write taking and at most the \(wallMicroseconds) µs its call took")
    }

    /// Checks `event`'s memory against `UpdateTip`'s `cache=…MiB` for a
    /// cache that nothing changed since that block.
    static func checkMemory(_ event: UTXOCacheFlush, loggedAfter block: NodeLog.ConnectedBlock?, _ label: String, _ check: Check) {
        guard let block else {
            check.fail("\(label): debug.log has no UpdateTip line for the block before this flush")
            return
        }
        let mebibytes = Double(event.memoryBytes) / 1_048_576
        check.within(mebibytes, (block.cacheMebibytes - 0.05)...(block.cacheMebibytes + 0.05),
                     "\(label): cache memory \(event.memoryBytes) bytes is UpdateTip's cache=\(block.cacheMebibytes)MiB after block \(block.height) (one decimal)")
        check.equal(event.coins, UInt64(block.cacheEntries), "\(label): coins equal UpdateTip's \(block.cacheEntries) cache entries after block \(block.height)")
    }

    /// The coin database writes of `log` that belong to `flushes`, the last
    /// flushes of the node: each flush writes exactly once.
    static func writes(for flushes: [UTXOCacheFlush], in log: NodeLog, _ check: Check) -> [NodeLog.CoinDatabaseWrite?] {
        let writes = log.coinDatabaseWrites
        check.that(writes.count >= flushes.count, "debug.log has a coin database write for each of the \(flushes.count) flushes",
                   detail: "\(writes.count) writes")
        guard writes.count >= flushes.count else { return flushes.map { _ in nil } }
        return Array(writes.suffix(flushes.count))
    }
}
