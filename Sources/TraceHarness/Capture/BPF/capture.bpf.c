// The one generic USDT capture program of tapyrus-trace.
//
// Every probe is attached to this same program; the BPF cookie of the
// attachment selects a layout that user space wrote into `layouts`, telling
// how to read each argument. Adding a tracepoint therefore never changes this
// file. Records go to the `events` ring buffer; every hit and every failure is
// counted per probe in `probe_stats`, so user space can prove nothing was lost
// silently.
#define TT_BPF_PROGRAM 1
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "capture_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct tt_config config = { .wakeup_bytes = 1 << 20 };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, TT_MAX_LAYOUTS);
    __type(key, __u32);
    __type(value, struct tt_layout);
} layouts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, TT_MAX_LAYOUTS);
    __type(key, __u32);
    __type(value, struct tt_probe_stats);
} probe_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 << 20);
} events SEC(".maps");

static __always_inline __u64 submit_flags(void)
{
    __u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    return waiting >= config.wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

struct payload_cursor {
    __u64 address;
    __u64 length;
    __u64 delivered;
    __u64 sequence;
    __u32 cookie;
    bool failed;
    bool lost;
};

// The state of one payload's transfer, keyed by thread. It lives in a map
// rather than on the stack so the verifier treats its fields as unknown in
// the loop callback and checks the callback once, not once per iteration. A
// thread cannot hit a second probe while one runs, so the key is never shared.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, __u64);
    __type(value, struct payload_cursor);
} payload_cursors SEC(".maps");

#define DEFINE_CHUNK(SIZE)                                                     \
    struct chunk_##SIZE {                                                      \
        struct tt_chunk_header head;                                           \
        __u8 data[SIZE];                                                       \
    };                                                                         \
    static __always_inline int send_chunk_##SIZE(struct payload_cursor *c,    \
                                                 __u64 remaining)              \
    {                                                                          \
        struct chunk_##SIZE *chunk =                                           \
            bpf_ringbuf_reserve(&events, sizeof(*chunk), 0);                   \
        if (!chunk) {                                                          \
            c->lost = true;                                                    \
            return 1;                                                          \
        }                                                                      \
        __u32 n = remaining > SIZE ? SIZE : (__u32)remaining;                  \
        if (n > SIZE)                                                          \
            n = SIZE;                                                          \
        if (bpf_probe_read_user(chunk->data, n,                               \
                                (const void *)(c->address + c->delivered))) {  \
            bpf_ringbuf_discard(chunk, BPF_RB_NO_WAKEUP);                      \
            c->failed = true;                                                  \
            return 1;                                                          \
        }                                                                      \
        chunk->head.header.type = TT_RECORD_CHUNK;                             \
        chunk->head.header.cookie = c->cookie;                                 \
        chunk->head.header.sequence = c->sequence;                             \
        chunk->head.offset = (__u32)c->delivered;                              \
        chunk->head.length = n;                                                \
        bpf_ringbuf_submit(chunk, submit_flags());                             \
        c->delivered += n;                                                     \
        return c->delivered >= c->length ? 1 : 0;                              \
    }

DEFINE_CHUNK(256)
DEFINE_CHUNK(4096)
DEFINE_CHUNK(65536)

static long send_next_chunk(__u64 index, void *context)
{
    struct payload_cursor *c = bpf_map_lookup_elem(&payload_cursors, context);
    if (!c)
        return 1;
    if (c->delivered >= c->length)
        return 1;
    __u64 remaining = c->length - c->delivered;
    if (remaining <= TT_CHUNK_SMALL)
        return send_chunk_256(c, remaining);
    if (remaining <= TT_CHUNK_MEDIUM)
        return send_chunk_4096(c, remaining);
    return send_chunk_65536(c, remaining);
}

/// The values of all argument slots of one hit.
struct argument_values {
    __u64 values[TT_MAX_ARGS];
};

// Global (not static) functions are verified once, on their own, instead of
// once per path of their caller: that keeps loading the program fast.

/// Reads the first `count` arguments of the probe that fired.
__noinline int read_arguments(struct pt_regs *ctx, struct argument_values *out, __u32 count)
{
    if (!out)
        return 0;
    for (__u32 i = 0; i < TT_MAX_ARGS; i++) {
        long value = 0;
        if (i < count)
            bpf_usdt_arg(ctx, i, &value);
        out->values[i] = (__u64)value;
    }
    return 0;
}

/// Where the data items of one record go, and what happened reading them.
struct item_result {
    __u16 lengths[TT_MAX_ARGS];
    __u16 fault_mask;
    __u16 truncated_mask;
    __u32 faults;
};

// Reads the strings and byte arrays a layout names into a data area whose
// items start below OFFSET_LIMIT and hold at most ITEM_MAX bytes.
#define DEFINE_READ_ITEMS(NAME, AREA_SIZE, OFFSET_LIMIT, ITEM_MAX)              \
    struct NAME##_area {                                                       \
        __u8 bytes[AREA_SIZE];                                                 \
    };                                                                         \
    __noinline int NAME(struct NAME##_area *area, const struct tt_layout *layout, \
                        const struct argument_values *arguments,               \
                        struct item_result *result)                            \
    {                                                                          \
        if (!area || !layout || !arguments || !result)                         \
            return 0;                                                          \
        __u32 count = layout->arg_count;                                       \
        for (__u32 i = 0; i < TT_MAX_ARGS; i++) {                              \
            result->lengths[i] = 0;                                            \
            if (i >= count)                                                    \
                continue;                                                      \
            __u8 kind = layout->args[i].kind;                                  \
            if (kind != TT_ARG_CSTRING && kind != TT_ARG_BYTES)                \
                continue;                                                      \
            __u32 offset = layout->args[i].offset;                             \
            __u32 max = layout->args[i].max_length;                            \
            if (offset >= OFFSET_LIMIT || max > ITEM_MAX || max == 0)          \
                continue;                                                      \
            const void *source = (const void *)arguments->values[i];           \
            long read;                                                         \
            if (kind == TT_ARG_CSTRING) {                                      \
                read = bpf_probe_read_user_str(&area->bytes[offset], max, source); \
                if (read == (long)max)                                         \
                    result->truncated_mask |= (1u << i);                       \
            } else {                                                           \
                read = bpf_probe_read_user(&area->bytes[offset], max, source); \
                if (read == 0)                                                 \
                    read = max;                                                \
            }                                                                  \
            if (read < 0) {                                                    \
                result->fault_mask |= (1u << i);                               \
                result->faults += 1;                                           \
                read = 0;                                                      \
            }                                                                  \
            result->lengths[i] = (__u16)read;                                  \
        }                                                                      \
        return 0;                                                              \
    }

DEFINE_READ_ITEMS(read_items_small, TT_SMALL_DATA_SIZE, TT_SMALL_OFFSET_LIMIT, TT_SMALL_ITEM_MAX)
DEFINE_READ_ITEMS(read_items_large, TT_DATA_SIZE, TT_DATA_OFFSET_LIMIT, TT_DATA_ITEM_MAX)

/// Sends the payload argument, if the layout has one, as chunk records.
/// Returns the payload's argument index, or TT_MAX_ARGS if there is none.
__noinline int send_payload(const struct tt_layout *layout, const struct argument_values *arguments,
                            struct payload_cursor *cursor, struct tt_probe_stats *stats)
{
    if (!layout || !arguments || !cursor || !stats)
        return TT_MAX_ARGS;
    __u32 payload_arg = TT_MAX_ARGS;
    for (__u32 i = 0; i < TT_MAX_ARGS; i++) {
        if (layout->args[i].kind != TT_ARG_PAYLOAD || i >= layout->arg_count)
            continue;
        __u32 length_arg = layout->args[i].length_arg;
        if (length_arg >= TT_MAX_ARGS)
            break;
        __u64 length = arguments->values[length_arg];
        if (length > layout->args[i].max_length)
            length = layout->args[i].max_length;
        cursor->address = arguments->values[i];
        cursor->length = length;
        payload_arg = i;
        break;
    }
    if (cursor->length == 0)
        return payload_arg;
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct payload_cursor *shared;
    if (bpf_map_update_elem(&payload_cursors, &pid_tgid, cursor, BPF_ANY) == 0 &&
        (shared = bpf_map_lookup_elem(&payload_cursors, &pid_tgid))) {
        bpf_loop(cursor->length / TT_CHUNK_SMALL + 2, send_next_chunk, &pid_tgid, 0);
        cursor->delivered = shared->delivered;
        cursor->lost = shared->lost;
        cursor->failed = shared->failed;
        bpf_map_delete_elem(&payload_cursors, &pid_tgid);
    } else {
        cursor->lost = true;
    }
    if (cursor->lost)
        __sync_fetch_and_add(&stats->chunks_lost, 1);
    if (cursor->failed)
        __sync_fetch_and_add(&stats->read_faults, 1);
    return payload_arg;
}

// Reserves a record of type RECORD, fills it and submits it.
#define DEFINE_CAPTURE(NAME, RECORD, READ_ITEMS)                               \
    static __always_inline int NAME(struct pt_regs *ctx, __u32 cookie,         \
                                    const struct tt_layout *layout,            \
                                    struct tt_probe_stats *stats,              \
                                    __u64 sequence)                            \
    {                                                                          \
        struct argument_values arguments = {};                                 \
        __u32 count = layout->arg_count;                                       \
        if (count > TT_MAX_ARGS)                                               \
            count = TT_MAX_ARGS;                                               \
        read_arguments(ctx, &arguments, count);                                \
        struct payload_cursor cursor = {.cookie = cookie, .sequence = sequence}; \
        int payload_arg = send_payload(layout, &arguments, &cursor, stats);    \
        RECORD *record = bpf_ringbuf_reserve(&events, sizeof(RECORD), 0);      \
        if (!record) {                                                         \
            __sync_fetch_and_add(&stats->events_lost, 1);                      \
            return 0;                                                          \
        }                                                                      \
        __u64 pid_tgid = bpf_get_current_pid_tgid();                           \
        record->header.type = TT_RECORD_EVENT;                                 \
        record->header.cookie = cookie;                                        \
        record->header.sequence = sequence;                                    \
        record->timestamp_ns = bpf_ktime_get_ns();                             \
        record->pid = pid_tgid >> 32;                                          \
        record->tid = (__u32)pid_tgid;                                         \
        record->arg_count = count;                                             \
        record->payload_delivered = cursor.delivered;                          \
        __builtin_memcpy(record->args, arguments.values, sizeof(record->args)); \
        struct item_result items = {};                                         \
        READ_ITEMS((void *)record->data, layout, &arguments, &items);          \
        __builtin_memcpy(record->lengths, items.lengths, sizeof(record->lengths)); \
        if (items.faults)                                                      \
            __sync_fetch_and_add(&stats->read_faults, items.faults);           \
        __u16 faults = items.fault_mask;                                       \
        if (payload_arg >= 0 && payload_arg < TT_MAX_ARGS &&                   \
            (cursor.failed || cursor.lost))                                    \
            faults |= (1u << payload_arg);                                     \
        record->fault_mask = faults;                                           \
        record->truncated_mask = items.truncated_mask;                         \
        bpf_ringbuf_submit(record, submit_flags());                            \
        return 0;                                                              \
    }

DEFINE_CAPTURE(capture_small, struct tt_small_event_record, read_items_small)
DEFINE_CAPTURE(capture_large, struct tt_event_record, read_items_large)

SEC("usdt")
int capture(struct pt_regs *ctx)
{
    __u32 cookie = (__u32)bpf_usdt_cookie(ctx);
    const struct tt_layout *layout = bpf_map_lookup_elem(&layouts, &cookie);
    struct tt_probe_stats *stats = bpf_map_lookup_elem(&probe_stats, &cookie);
    if (!layout || !stats)
        return 0;
    __u64 hit = __sync_fetch_and_add(&stats->hits, 1);
    __u64 sequence = ((__u64)bpf_get_smp_processor_id() << 48) | (hit & 0xffffffffffffULL);
    if (layout->flags & TT_LAYOUT_SMALL_RECORD)
        return capture_small(ctx, cookie, layout, stats, sequence);
    return capture_large(ctx, cookie, layout, stats, sequence);
}

// Does nothing: attached instead of `capture` by benchmarks to measure the
// cost of the uprobe itself, the floor any capture program stands on.
SEC("usdt")
int empty(struct pt_regs *ctx)
{
    return 0;
}
