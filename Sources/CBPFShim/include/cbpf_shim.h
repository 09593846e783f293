// The C surface tapyrus-trace uses: libbpf, libelf, and a few helpers for what
// Swift cannot express directly (option structs with size fields, varargs
// logging callbacks, a kernel interface newer than the installed libbpf,
// ordered loads and stores on shared memory), and the system headers Swift's
// Glibc module leaves out (epoll, pt_regs). Everything above this module is
// Swift.
#ifndef TAPYRUS_TRACE_CBPF_SHIM_H
#define TAPYRUS_TRACE_CBPF_SHIM_H

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <asm/ptrace.h>
#include <sys/epoll.h>
#include <stddef.h>
#include <stdint.h>
#include "capture_abi.h"

/// Routes libbpf's messages: warnings and errors are kept (the newest one per
/// thread is returned by tt_last_libbpf_message); debug output is dropped
/// unless verbose is non-zero, in which case everything goes to stderr.
void tt_configure_libbpf_logging(int verbose);

/// The newest warning or error libbpf printed on this thread, or "".
const char *tt_last_libbpf_message(void);

/// Forgets the newest libbpf message of this thread.
void tt_clear_libbpf_message(void);

/// Opens a BPF object from memory under the given object name.
struct bpf_object *tt_open_object(const void *bytes, size_t size, const char *name);

/// Sets the program's load-time configuration (its `.rodata` section).
/// Returns 0, or a negative errno if the section is missing or too small.
int tt_set_config(struct bpf_object *object, const struct tt_config *config);

/// The kernel's attach type for multi-uprobe links (BPF_TRACE_UPROBE_MULTI,
/// kernel 6.6 and later), which libbpf 1.1's headers do not name.
#define TT_ATTACH_UPROBE_MULTI 48

/// Whether the running kernel has multi-uprobe links that filter by process
/// (not by thread, as the first kernels with them did): 1 yes, 0 no, or a
/// negative errno if it could not be told (no permission to load programs).
int tt_kernel_has_uprobe_multi(void);

/// Creates one multi-uprobe link of `program_fd` on `count` sites of the
/// binary at `path`, given by file offset, with one BPF cookie each and,
/// where non-zero, the file offset of the site's semaphore (reference
/// counter); for process `pid` only, or every process when pid is 0.
/// Returns the link's descriptor, or -1 with errno set.
int tt_attach_uprobe_multi(int program_fd, const char *path, const uint64_t *offsets,
                           const uint64_t *semaphore_offsets, const uint64_t *cookies,
                           uint32_t count, int pid);

/// A descriptor that becomes readable when process `pid` exits (Linux 5.3
/// and later), or -1 with errno set (ESRCH: no such process; ENOSYS: a
/// kernel without pidfds).
int tt_pidfd_open(int pid);

/// Attaches a program to one uprobe at `offset` in `binary_path` (a perf
/// event), with `cookie` as its BPF cookie and, if non-zero, the file offset
/// of its semaphore; for process `pid` (-1: every process). Returns NULL
/// with errno set on failure.
struct bpf_link *tt_attach_uprobe(struct bpf_program *program, int pid, const char *binary_path,
                                  uint64_t offset, uint64_t semaphore_offset, uint64_t cookie);

/// A load of the 64-bit value at `address` with acquire ordering.
static inline uint64_t tt_load_acquire(const uint64_t *address)
{
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

/// A load of the 32-bit value at `address` with acquire ordering.
static inline uint32_t tt_load_acquire_32(const uint32_t *address)
{
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

/// A store of `value` at `address` with release ordering.
static inline void tt_store_release(uint64_t *address, uint64_t value)
{
    __atomic_store_n(address, value, __ATOMIC_RELEASE);
}

#endif
