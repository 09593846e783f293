// The contract between the eBPF capture program and the Swift harness.
//
// This header is the one source of truth for every structure that crosses the
// kernel/user boundary: the site table user space writes into the `sites` map
// (where each argument lives and how to read it), the records the program
// writes into the `events` ring buffer, and the counters in the `site_stats`
// and `process_losses` maps. It is compiled twice: by clang for the `bpf`
// target (with TT_BPF_PROGRAM defined) and by Swift's clang importer through
// the CBPFShim module.
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

/// The number of argument slots a USDT probe can have.
#define TT_MAX_ARGS 12
/// The number of distinct probes one capture can attach.
#define TT_MAX_PROBES 512
/// The number of probe sites one capture can attach (the BPF cookie of an
/// attachment is its site's index).
#define TT_MAX_SITES 1024
/// Distinct (process, site) pairs whose losses are counted per process.
#define TT_MAX_PROCESS_ENTRIES 4096

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

/// The traced thread's registers are 8-byte words of the architecture's
/// `struct pt_regs` of <asm/ptrace.h>, which both sides compile: an operand
/// names a register by its word index there.
/// An operand's base or index that names no register.
#define TT_NO_REGISTER 0xff

/// Where one argument's value is when the probe fires: its ELF note's operand.
enum tt_operand_kind {
    /// `$5`: the value is `displacement`.
    TT_OPERAND_CONSTANT = 0,
    /// `%eax`: the value is the register `base`.
    TT_OPERAND_REGISTER = 1,
    /// `-8(%rbp)`, `(%rax,%rbx,8)`: the value is `size` bytes at
    /// base + index * scale + displacement in the traced process.
    TT_OPERAND_MEMORY = 2,
};

struct tt_operand {
    tt_u64 displacement;
    tt_u8 kind;
    tt_u8 base;
    tt_u8 index;
    tt_u8 scale;
    /// The value's size in bytes (1, 2, 4 or 8): it is cut to it and
    /// extended by its sign.
    tt_u8 size;
    tt_u8 is_signed;
    tt_u8 reserved[2];
};

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
/// One argument is a payload: its chunks are sent before the event.
#define TT_LAYOUT_HAS_PAYLOAD 2u

/// How to read every argument of one probe.
struct tt_layout {
    tt_u32 arg_count;
    tt_u32 flags;
    /// Bit i set: argument i is a string or byte array read into the data
    /// area (the program skips the others without looking at them).
    tt_u16 item_mask;
    tt_u16 reserved;
    struct tt_arg_layout args[TT_MAX_ARGS];
};

/// One attached probe site, indexed by the BPF cookie of its attachment:
/// where its arguments are and how to read them. Sites of one probe share
/// the layout but each has its own operands (the compiler places arguments
/// per site).
struct tt_site {
    /// The probe's index in the capture.
    tt_u32 probe;
    tt_u32 reserved;
    struct tt_layout layout;
    struct tt_operand operands[TT_MAX_ARGS];
};

enum tt_record_type {
    TT_RECORD_EVENT = 1,
    TT_RECORD_CHUNK = 2,
};

/// Starts every record in the ring buffer.
struct tt_record_header {
    tt_u32 type;
    /// The index of the site that fired.
    tt_u32 site;
    /// The process (thread group) and thread that hit the probe.
    tt_u32 pid;
    tt_u32 tid;
    /// Unique per site hit: the CPU in the top 16 bits, the CPU's hit count
    /// for this site below. Chunks carry the sequence of their event.
    tt_u64 sequence;
};

/// One probe hit. Sent after the chunks of its payload, if any.
struct tt_event_record {
    struct tt_record_header header;
    tt_u64 timestamp_ns;
    tt_u32 arg_count;
    /// Bit i set: argument i could not be read (its operand's memory, or
    /// the memory it points at, or not whole). A scalar that could not be
    /// read carries the address it was read from.
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
    /// The bytes the whole payload was to have (user space reserves them
    /// once).
    tt_u32 total;
    tt_u32 reserved;
};

/// Counters per site (per CPU in the map; user space sums them).
struct tt_site_stats {
    /// Every time the program ran for this site.
    tt_u64 hits;
    /// Hits whose event record could not be reserved: lost.
    tt_u64 events_lost;
    /// Payloads cut short: a chunk could not be reserved (their event says so).
    tt_u64 chunks_lost;
    /// Argument reads that failed (memory not resident, bad pointer).
    tt_u64 read_faults;
    /// Failures above that could not be counted per process because
    /// `process_losses` was full (a per-process count may then be short).
    tt_u64 unattributed;
};

/// The key of `process_losses`: a process and a site.
struct tt_process_key {
    tt_u32 pid;
    tt_u32 site;
};

/// Failures of one process at one site, counted only when one happens.
struct tt_process_losses {
    tt_u64 events_lost;
    tt_u64 chunks_lost;
    tt_u64 read_faults;
};

/// Tunables set by user space before the program is loaded.
struct tt_config {
    /// Wake the reader when the bytes waiting in the ring cross this many;
    /// below it the reader finds records on its own short poll interval.
    tt_u64 wakeup_bytes;
};

#endif
