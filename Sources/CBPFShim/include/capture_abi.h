// The contract between the eBPF capture program and the Swift harness.
//
// This header is the one source of truth for every structure that crosses the
// kernel/user boundary: argument layouts written by user space into the
// `layouts` map, the records the program writes into the `events` ring
// buffer, and the per-probe counters in the `probe_stats` map. It is compiled
// twice: by clang for the `bpf` target (with TT_BPF_PROGRAM defined) and by
// Swift's clang importer through the CBPFShim module.
#ifndef TAPYRUS_TRACE_CAPTURE_ABI_H
#define TAPYRUS_TRACE_CAPTURE_ABI_H

#ifdef TT_BPF_PROGRAM
#include <linux/types.h>
typedef __u8 tt_u8;
typedef __u16 tt_u16;
typedef __u32 tt_u32;
typedef __u64 tt_u64;
#else
#include <stdint.h>
typedef uint8_t tt_u8;
typedef uint16_t tt_u16;
typedef uint32_t tt_u32;
typedef uint64_t tt_u64;
#endif

/// The number of argument slots a USDT probe can have (libbpf's limit too).
#define TT_MAX_ARGS 12
/// The number of distinct layouts (one per attached probe; the BPF cookie).
#define TT_MAX_LAYOUTS 512

/// Strings and fixed byte arrays are written into an event's data area at
/// offsets below TT_DATA_OFFSET_LIMIT, each at most TT_DATA_ITEM_MAX bytes.
#define TT_DATA_OFFSET_LIMIT 256
#define TT_DATA_ITEM_MAX 256
#define TT_DATA_SIZE (TT_DATA_OFFSET_LIMIT + TT_DATA_ITEM_MAX)
/// Layouts whose items all fit below TT_SMALL_OFFSET_LIMIT with at most
/// TT_SMALL_ITEM_MAX bytes each use the small record.
#define TT_SMALL_OFFSET_LIMIT 32
#define TT_SMALL_ITEM_MAX 32
#define TT_SMALL_DATA_SIZE (TT_SMALL_OFFSET_LIMIT + TT_SMALL_ITEM_MAX)

/// Payload chunks are written in one of three sizes, the smallest that holds
/// what is left, so small messages waste little ring space.
#define TT_CHUNK_SMALL 256
#define TT_CHUNK_MEDIUM 4096
#define TT_CHUNK_LARGE 65536

/// How one argument slot is read.
enum tt_arg_kind {
    /// The value itself (integer, bool, or an address kept as a number).
    TT_ARG_SCALAR = 0,
    /// A NUL-terminated string the argument points at, at most max_length
    /// bytes including the NUL.
    TT_ARG_CSTRING = 1,
    /// Exactly max_length bytes the argument points at (a 32-byte hash).
    TT_ARG_BYTES = 2,
    /// Bytes the argument points at, as many as the value of argument
    /// length_arg, at most max_length; sent as chunk records.
    TT_ARG_PAYLOAD = 3,
};

struct tt_arg_layout {
    tt_u8 kind;
    /// For TT_ARG_PAYLOAD: the index of the argument holding the length.
    tt_u8 length_arg;
    /// For TT_ARG_CSTRING and TT_ARG_BYTES: offset in the data area.
    tt_u16 offset;
    tt_u32 max_length;
};

/// Layout flags.
#define TT_LAYOUT_SMALL_RECORD 1u

/// How to read every argument of one probe; indexed by the BPF cookie.
struct tt_layout {
    tt_u32 arg_count;
    tt_u32 flags;
    struct tt_arg_layout args[TT_MAX_ARGS];
};

enum tt_record_type {
    TT_RECORD_EVENT = 1,
    TT_RECORD_CHUNK = 2,
};

/// Starts every record in the ring buffer.
struct tt_record_header {
    tt_u32 type;
    /// The cookie (layout index) of the probe that fired.
    tt_u32 cookie;
    /// Unique per (cookie) hit: the CPU in the top 16 bits, the CPU's hit
    /// count for this probe below. Chunks carry the sequence of their event.
    tt_u64 sequence;
};

/// One probe hit. Sent after the chunks of its payload, if any.
struct tt_event_record {
    struct tt_record_header header;
    tt_u64 timestamp_ns;
    tt_u32 pid;
    tt_u32 tid;
    tt_u32 arg_count;
    /// Bit i set: argument i's memory could not be read (or not whole).
    tt_u16 fault_mask;
    /// Bit i set: string argument i filled its maximum and may be cut.
    tt_u16 truncated_mask;
    tt_u64 args[TT_MAX_ARGS];
    /// For strings: bytes read including the NUL; for byte arrays: bytes.
    tt_u16 lengths[TT_MAX_ARGS];
    /// Payload bytes delivered in chunk records (0 if none).
    tt_u64 payload_delivered;
    tt_u8 data[TT_DATA_SIZE];
};

/// The same record with a small data area, for layouts that need little.
struct tt_small_event_record {
    struct tt_record_header header;
    tt_u64 timestamp_ns;
    tt_u32 pid;
    tt_u32 tid;
    tt_u32 arg_count;
    tt_u16 fault_mask;
    tt_u16 truncated_mask;
    tt_u64 args[TT_MAX_ARGS];
    tt_u16 lengths[TT_MAX_ARGS];
    tt_u64 payload_delivered;
    tt_u8 data[TT_SMALL_DATA_SIZE];
};

/// A piece of a payload, at `offset` in it, `length` bytes valid.
struct tt_chunk_header {
    struct tt_record_header header;
    tt_u32 offset;
    tt_u32 length;
};

/// Counters per probe (per CPU in the map; user space sums them).
struct tt_probe_stats {
    /// Every time the program ran for this probe.
    tt_u64 hits;
    /// Hits whose event record could not be reserved: lost.
    tt_u64 events_lost;
    /// Payload chunks that could not be reserved (their event says so).
    tt_u64 chunks_lost;
    /// Argument reads that failed (memory not resident, bad pointer).
    tt_u64 read_faults;
};

/// Tunables set by user space before the program is loaded.
struct tt_config {
    /// Wake the reader only once this many bytes wait in the ring; below it
    /// the reader finds records on its own short poll interval.
    tt_u64 wakeup_bytes;
};

#endif
