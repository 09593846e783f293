// The one generic USDT capture program of tapyrus-trace.
//
// Every probe site is attached to this same program, through one multi-uprobe
// link or one uprobe per site; the BPF cookie of the attachment is the site's
// index in `sites`, where user space wrote where each argument lives (the
// operands of the site's ELF note) and how to read it (the probe's layout).
// Adding a tracepoint therefore never changes this file. Records go to the
// `events` ring buffer; every hit and every failure is counted per site in
// `site_stats`, and failures also per process in `process_losses`, so user
// space can prove nothing was lost silently.
#define TT_BPF_PROGRAM 1
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "capture_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct tt_config config = { .wakeup_bytes = 1 << 20 };

// The traced thread's registers as user space numbers them (uapi layout).
#if defined(__TARGET_ARCH_arm64)
typedef struct user_pt_regs tt_registers;
#else
typedef struct pt_regs tt_registers;
#endif
#define REGISTER_WORDS (sizeof(tt_registers) / 8)

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, TT_MAX_SITES);
    __type(key, __u32);
    __type(value, struct tt_site);
} sites SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, TT_MAX_SITES);
    __type(key, __u32);
    __type(value, struct tt_site_stats);
} site_stats SEC(".maps");

// Touched only when something fails, so the hot path never pays for it.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TT_MAX_PROCESS_ENTRIES);
    __type(key, struct tt_process_key);
    __type(value, struct tt_process_losses);
} process_losses SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 22);
} events SEC(".maps");

/// Submits a record of `size` bytes, waking the reader only when the bytes
/// waiting have just crossed the threshold: once per threshold's worth,
/// never once per record while a slow reader lags (each wakeup is an
/// inter-processor interrupt, expensive under virtualisation). Event records
/// look only every `CHECK_EVERY`th hit of their site on a CPU (the window is
/// that much wider), since asking the ring costs a helper call.
#define CHECK_EVERY 32
static __always_inline void submit(void *record, __u64 size, __u64 window)
{
    if (!window) {
        bpf_ringbuf_submit(record, BPF_RB_NO_WAKEUP);
        return;
    }
    __u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    __u64 threshold = config.wakeup_bytes;
    bool crossing = waiting >= threshold && waiting < threshold + 2 * window * (size + 8);
    bpf_ringbuf_submit(record, crossing ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/// The wakeup window of an event record of hit `sequence`: 0 (do not look)
/// but every CHECK_EVERY hits.
static __always_inline __u64 event_window(__u64 sequence)
{
    return (sequence & (CHECK_EVERY - 1)) == 0 ? CHECK_EVERY : 0;
}

/// Counts failures of the current process at `site`; called only on failure.
__noinline int count_process_failure(__u32 site, __u32 events_lost, __u32 chunks_lost, __u32 read_faults,
                                     struct tt_site_stats *stats)
{
    if (!stats)
        return 0;
    struct tt_process_key key = {.pid = bpf_get_current_pid_tgid() >> 32, .site = site};
    struct tt_process_losses *losses = bpf_map_lookup_elem(&process_losses, &key);
    if (!losses) {
        struct tt_process_losses zero = {};
        bpf_map_update_elem(&process_losses, &key, &zero, BPF_NOEXIST);
        losses = bpf_map_lookup_elem(&process_losses, &key);
    }
    if (!losses) {
        __sync_fetch_and_add(&stats->unattributed, (__u64)events_lost + chunks_lost + read_faults);
        return 0;
    }
    if (events_lost)
        __sync_fetch_and_add(&losses->events_lost, events_lost);
    if (chunks_lost)
        __sync_fetch_and_add(&losses->chunks_lost, chunks_lost);
    if (read_faults)
        __sync_fetch_and_add(&losses->read_faults, read_faults);
    return 0;
}

/// The register at word `word` of the traced thread's `pt_regs`.
///
/// On x86-64 the context is read field by field: a load of a known offset
/// of the context is one instruction, where copying all of it takes a helper
/// call. The verifier forbids loads from a computed context address, and
/// clang merges the cases of a plain switch into one such load, so each case
/// pins its value with an empty asm. Elsewhere the registers are copied.
#if defined(__TARGET_ARCH_x86)
#define REGISTER(value) asm volatile("" : "+r"(value))
static __always_inline __u64 register_word(struct pt_regs *ctx, __u32 word)
{
    __u64 value = 0;
    switch (word) {
    case 0: value = ctx->r15; REGISTER(value); break;
    case 1: value = ctx->r14; REGISTER(value); break;
    case 2: value = ctx->r13; REGISTER(value); break;
    case 3: value = ctx->r12; REGISTER(value); break;
    case 4: value = ctx->rbp; REGISTER(value); break;
    case 5: value = ctx->rbx; REGISTER(value); break;
    case 6: value = ctx->r11; REGISTER(value); break;
    case 7: value = ctx->r10; REGISTER(value); break;
    case 8: value = ctx->r9; REGISTER(value); break;
    case 9: value = ctx->r8; REGISTER(value); break;
    case 10: value = ctx->rax; REGISTER(value); break;
    case 11: value = ctx->rcx; REGISTER(value); break;
    case 12: value = ctx->rdx; REGISTER(value); break;
    case 13: value = ctx->rsi; REGISTER(value); break;
    case 14: value = ctx->rdi; REGISTER(value); break;
    case 15: value = ctx->orig_rax; REGISTER(value); break;
    case 16: value = ctx->rip; REGISTER(value); break;
    case 17: value = ctx->cs; REGISTER(value); break;
    case 18: value = ctx->eflags; REGISTER(value); break;
    case 19: value = ctx->rsp; REGISTER(value); break;
    case 20: value = ctx->ss; REGISTER(value); break;
    }
    return value;
}
#else
static __always_inline __u64 register_word(struct pt_regs *ctx, __u32 word)
{
    __u64 value = 0;
    if (word < REGISTER_WORDS)
        bpf_probe_read_kernel(&value, sizeof(value), (void *)ctx + word * 8);
    return value;
}
#endif

/// The values of all argument slots of one hit.
struct argument_values {
    __u64 values[TT_MAX_ARGS];
};

// Global (not static) functions are verified once, on their own, instead of
// once per path of their caller: that keeps loading the program fast.

/// Reads the site's arguments into `out` and returns the mask of those that
/// could not be read (their slot then holds the address tried, or 0).
__noinline int read_arguments(struct pt_regs *ctx, const struct tt_site *site, struct argument_values *out)
{
    if (!site || !out)
        return 0;
    __u32 count = site->layout.arg_count;
    int faults = 0;
    for (__u32 i = 0; i < TT_MAX_ARGS; i++) {
        __u64 value = 0;
        if (i >= count) {
            out->values[i] = 0;
            continue;
        }
        const struct tt_operand *operand = &site->operands[i];
        __u32 base = operand->base;
        __u32 index = operand->index;
        __u32 size = operand->size;
        if (size < 1 || size > 8)
            size = 8;
        switch (operand->kind) {
        case TT_OPERAND_CONSTANT:
            value = operand->displacement;
            break;
        case TT_OPERAND_REGISTER:
            value = register_word(ctx, base);
            break;
        case TT_OPERAND_MEMORY: {
            __u64 address = operand->displacement;
            if (base < REGISTER_WORDS)
                address += register_word(ctx, base);
            if (index < REGISTER_WORDS)
                address += register_word(ctx, index) * operand->scale;
            if (bpf_probe_read_user(&value, size, (const void *)address)) {
                out->values[i] = address;
                faults |= 1 << i;
                continue;
            }
            break;
        }
        }
        // Cut to the operand's size and extend by its sign.
        __u32 shift = 64 - size * 8;
        value <<= shift;
        value = operand->is_signed ? (__u64)((__s64)value >> shift) : value >> shift;
        out->values[i] = value;
    }
    return faults;
}

/// What happened reading the data items of one record.
struct item_result {
    __u16 lengths[TT_MAX_ARGS];
    __u16 fault_mask;
    __u16 truncated_mask;
    __u32 faults;
};

// Reads the strings and byte arrays a layout names into a data area whose
// items start below OFFSET_LIMIT and hold at most ITEM_MAX bytes. Arguments
// in `skip` (whose own value could not be read) are not followed.
#define DEFINE_READ_ITEMS(NAME, AREA_SIZE, OFFSET_LIMIT, ITEM_MAX)              \
    struct NAME##_area {                                                       \
        __u8 bytes[AREA_SIZE];                                                 \
    };                                                                         \
    __noinline int NAME(struct NAME##_area *area, const struct tt_layout *layout, \
                        const struct argument_values *arguments, __u32 skip,   \
                        struct item_result *result)                            \
    {                                                                          \
        if (!area || !layout || !arguments || !result)                         \
            return 0;                                                          \
        __u32 count = layout->arg_count;                                       \
        __u32 items = layout->item_mask;                                       \
        for (__u32 i = 0; i < TT_MAX_ARGS; i++) {                              \
            if (!(items >> i))                                                 \
                break;                                                         \
            if (i >= count || (skip & (1u << i)) || !(items & (1u << i)))      \
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

struct payload_cursor {
    __u64 address;
    __u64 length;
    __u64 delivered;
    __u64 sequence;
    __u64 pid_tgid;
    __u32 site;
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
        chunk->head.header.site = c->site;                                     \
        chunk->head.header.pid = c->pid_tgid >> 32;                            \
        chunk->head.header.tid = (__u32)c->pid_tgid;                           \
        chunk->head.header.sequence = c->sequence;                             \
        chunk->head.offset = (__u32)c->delivered;                              \
        chunk->head.length = n;                                                \
        chunk->head.total = (__u32)c->length;                                  \
        chunk->head.reserved = 0;                                              \
        submit(chunk, sizeof(*chunk), 1);                                      \
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

/// Sends the payload argument, if the layout has one, as chunk records.
/// Returns the payload's argument index, or TT_MAX_ARGS if there is none.
__noinline int send_payload(const struct tt_layout *layout, const struct argument_values *arguments,
                            __u32 unreadable, struct payload_cursor *cursor)
{
    if (!layout || !arguments || !cursor)
        return TT_MAX_ARGS;
    __u32 payload_arg = TT_MAX_ARGS;
    for (__u32 i = 0; i < TT_MAX_ARGS; i++) {
        if (layout->args[i].kind != TT_ARG_PAYLOAD || i >= layout->arg_count)
            continue;
        __u32 length_arg = layout->args[i].length_arg;
        if (length_arg >= TT_MAX_ARGS)
            break;
        payload_arg = i;
        if (unreadable & ((1u << i) | (1u << length_arg))) {
            cursor->failed = true;
            break;
        }
        __u64 length = arguments->values[length_arg];
        if (length > layout->args[i].max_length)
            length = layout->args[i].max_length;
        cursor->address = arguments->values[i];
        cursor->length = length;
        break;
    }
    if (cursor->length == 0)
        return payload_arg;
    __u64 key = cursor->pid_tgid;
    struct payload_cursor *shared;
    if (bpf_map_update_elem(&payload_cursors, &key, cursor, BPF_ANY) == 0 &&
        (shared = bpf_map_lookup_elem(&payload_cursors, &key))) {
        bpf_loop(cursor->length / TT_CHUNK_SMALL + 2, send_next_chunk, &key, 0);
        cursor->delivered = shared->delivered;
        cursor->lost = shared->lost;
        cursor->failed = shared->failed;
        bpf_map_delete_elem(&payload_cursors, &key);
    } else {
        cursor->lost = true;
    }
    return payload_arg;
}

// Reserves a record of type RECORD, fills it and submits it. Without a
// payload the record is reserved first and the arguments are read straight
// into it; with one, the chunks must precede the event in the ring, so the
// arguments are read first.
#define DEFINE_CAPTURE(NAME, RECORD, READ_ITEMS)                               \
    static __always_inline void fill_##NAME(RECORD *record, const struct tt_site *site, \
                                            __u32 index, __u64 sequence,       \
                                            __u64 pid_tgid, __u32 unreadable,  \
                                            struct item_result *items)         \
    {                                                                          \
        record->header.type = TT_RECORD_EVENT;                                 \
        record->header.site = index;                                           \
        record->header.pid = pid_tgid >> 32;                                   \
        record->header.tid = (__u32)pid_tgid;                                  \
        record->header.sequence = sequence;                                    \
        record->timestamp_ns = bpf_ktime_get_ns();                             \
        record->arg_count = site->layout.arg_count;                            \
        if (site->layout.item_mask)                                            \
            READ_ITEMS((void *)record->data, &site->layout,                    \
                       (const struct argument_values *)record->args, unreadable, items); \
        __builtin_memcpy(record->lengths, items->lengths, sizeof(record->lengths)); \
        record->truncated_mask = items->truncated_mask;                        \
    }                                                                          \
    static __always_inline int NAME(struct pt_regs *ctx, const struct tt_site *site, \
                                    __u32 index, struct tt_site_stats *stats,  \
                                    __u64 sequence)                            \
    {                                                                          \
        __u64 pid_tgid = bpf_get_current_pid_tgid();                           \
        struct item_result items = {};                                         \
        if (!(site->layout.flags & TT_LAYOUT_HAS_PAYLOAD)) {                   \
            RECORD *record = bpf_ringbuf_reserve(&events, sizeof(RECORD), 0);  \
            if (!record) {                                                     \
                __sync_fetch_and_add(&stats->events_lost, 1);                  \
                count_process_failure(index, 1, 0, 0, stats);                  \
                return 0;                                                      \
            }                                                                  \
            __u32 unreadable = read_arguments(ctx, site,                       \
                                              (struct argument_values *)record->args); \
            record->payload_delivered = 0;                                     \
            fill_##NAME(record, site, index, sequence, pid_tgid, unreadable, &items); \
            __u32 faults = items.faults + __builtin_popcount(unreadable);      \
            record->fault_mask = items.fault_mask | unreadable;                \
            submit(record, sizeof(RECORD), event_window(sequence));            \
            if (faults) {                                                      \
                __sync_fetch_and_add(&stats->read_faults, faults);             \
                count_process_failure(index, 0, 0, faults, stats);             \
            }                                                                  \
            return 0;                                                          \
        }                                                                      \
        struct argument_values arguments = {};                                 \
        __u32 unreadable = read_arguments(ctx, site, &arguments);              \
        struct payload_cursor cursor = {                                       \
            .site = index, .sequence = sequence, .pid_tgid = pid_tgid};        \
        int payload_arg = send_payload(&site->layout, &arguments, unreadable, &cursor); \
        __u32 faults = __builtin_popcount(unreadable) + (cursor.failed ? 1 : 0); \
        __u32 cut = cursor.lost ? 1 : 0;                                       \
        RECORD *record = bpf_ringbuf_reserve(&events, sizeof(RECORD), 0);      \
        if (!record) {                                                         \
            __sync_fetch_and_add(&stats->events_lost, 1);                      \
            if (cut)                                                           \
                __sync_fetch_and_add(&stats->chunks_lost, 1);                  \
            if (faults)                                                        \
                __sync_fetch_and_add(&stats->read_faults, faults);             \
            count_process_failure(index, 1, cut, faults, stats);               \
            return 0;                                                          \
        }                                                                      \
        __builtin_memcpy(record->args, arguments.values, sizeof(record->args)); \
        record->payload_delivered = cursor.delivered;                          \
        fill_##NAME(record, site, index, sequence, pid_tgid, unreadable, &items); \
        faults += items.faults;                                                \
        __u16 fault_mask = items.fault_mask | unreadable;                      \
        if (payload_arg >= 0 && payload_arg < TT_MAX_ARGS &&                   \
            (cursor.failed || cursor.lost))                                    \
            fault_mask |= (1u << payload_arg);                                 \
        record->fault_mask = fault_mask;                                       \
        submit(record, sizeof(RECORD), event_window(sequence));                \
        if (cut)                                                               \
            __sync_fetch_and_add(&stats->chunks_lost, 1);                      \
        if (faults)                                                            \
            __sync_fetch_and_add(&stats->read_faults, faults);                 \
        if (cut || faults)                                                     \
            count_process_failure(index, 0, cut, faults, stats);               \
        return 0;                                                              \
    }

DEFINE_CAPTURE(capture_small, struct tt_small_event_record, read_items_small)
DEFINE_CAPTURE(capture_large, struct tt_event_record, read_items_large)

// Attached as a multi-uprobe link or as one uprobe per site; user space sets
// the expected attach type before loading, as the kernel requires.
SEC("uprobe")
int capture(struct pt_regs *ctx)
{
    __u32 index = (__u32)bpf_get_attach_cookie(ctx);
    const struct tt_site *site = bpf_map_lookup_elem(&sites, &index);
    struct tt_site_stats *stats = bpf_map_lookup_elem(&site_stats, &index);
    if (!site || !stats)
        return 0;
    // Atomic although the map is per CPU: a preempted hit may share it.
    __u64 hit = __sync_fetch_and_add(&stats->hits, 1);
    __u64 sequence = ((__u64)bpf_get_smp_processor_id() << 48) | (hit & 0xffffffffffffULL);
    if (site->layout.flags & TT_LAYOUT_SMALL_RECORD)
        return capture_small(ctx, site, index, stats, sequence);
    return capture_large(ctx, site, index, stats, sequence);
}

// Does nothing: attached instead of `capture` by benchmarks to measure the
// cost of the uprobe itself, the floor any capture program stands on.
SEC("uprobe")
int empty(struct pt_regs *ctx)
{
    return 0;
}
