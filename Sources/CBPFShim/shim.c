#include "cbpf_shim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int verbose_logging;
static __thread char last_message[1024];

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
    if (verbose_logging)
        return vfprintf(stderr, format, args);
    if (level == LIBBPF_DEBUG)
        return 0;
    int written = vsnprintf(last_message, sizeof(last_message), format, args);
    size_t length = strlen(last_message);
    while (length > 0 && (last_message[length - 1] == '\n' || last_message[length - 1] == ' '))
        last_message[--length] = '\0';
    return written;
}

void tt_configure_libbpf_logging(int verbose)
{
    verbose_logging = verbose;
    libbpf_set_print(print_libbpf);
}

const char *tt_last_libbpf_message(void)
{
    return last_message;
}

void tt_clear_libbpf_message(void)
{
    last_message[0] = '\0';
}

struct bpf_object *tt_open_object(const void *bytes, size_t size, const char *name)
{
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = name);
    return bpf_object__open_mem(bytes, size, &options);
}

int tt_set_config(struct bpf_object *object, const struct tt_config *config)
{
    struct bpf_map *rodata = bpf_object__find_map_by_name(object, ".rodata");
    if (!rodata)
        return -ENOENT;
    size_t size = 0;
    void *initial = bpf_map__initial_value(rodata, &size);
    if (!initial || size < sizeof(*config))
        return -EINVAL;
    memcpy(initial, config, sizeof(*config));
    return 0;
}

// The `uprobe_multi` part of the kernel's `union bpf_attr` for
// BPF_LINK_CREATE (include/uapi/linux/bpf.h since 6.6), which the installed
// <linux/bpf.h> predates.
struct uprobe_multi_link_attr {
    uint32_t program_fd;
    uint32_t target_fd;
    uint32_t attach_type;
    uint32_t flags;
    uint64_t path;
    uint64_t offsets;
    uint64_t reference_counter_offsets;
    uint64_t cookies;
    uint32_t count;
    uint32_t multi_flags;
    uint32_t pid;
    uint32_t padding;
};

int tt_attach_uprobe_multi(int program_fd, const char *path, const uint64_t *offsets,
                           const uint64_t *semaphore_offsets, const uint64_t *cookies,
                           uint32_t count, int pid)
{
    struct uprobe_multi_link_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.program_fd = (uint32_t)program_fd;
    attr.attach_type = TT_ATTACH_UPROBE_MULTI;
    attr.path = (uint64_t)(uintptr_t)path;
    attr.offsets = (uint64_t)(uintptr_t)offsets;
    attr.reference_counter_offsets = (uint64_t)(uintptr_t)semaphore_offsets;
    attr.cookies = (uint64_t)(uintptr_t)cookies;
    attr.count = count;
    attr.pid = (uint32_t)pid;
    return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
}

int tt_kernel_has_uprobe_multi(void)
{
    // The way libbpf 1.4 tells (features.c): a trivial program of the multi
    // attach type must load, a link on the invalid binary "/" must fail with
    // EBADF, and with the invalid pid -1 with EINVAL (kernels that filtered
    // by thread answered ESRCH).
    struct bpf_insn instructions[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, options, .expected_attach_type = TT_ATTACH_UPROBE_MULTI);
    int program = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", instructions, 2, &options);
    if (program < 0)
        return errno == EPERM ? -EPERM : 0;
    uint64_t offset = 0;
    int link = tt_attach_uprobe_multi(program, "/", &offset, NULL, NULL, 1, 0);
    int error = errno;
    int supported = 0;
    if (link >= 0) {
        close(link);
    } else if (error == EBADF) {
        link = tt_attach_uprobe_multi(program, "/", &offset, NULL, NULL, 1, -1);
        error = errno;
        if (link >= 0)
            close(link);
        else
            supported = error == EINVAL;
    }
    close(program);
    return supported;
}

struct bpf_link *tt_attach_uprobe(struct bpf_program *program, int pid, const char *binary_path,
                                  uint64_t offset, uint64_t semaphore_offset, uint64_t cookie)
{
    LIBBPF_OPTS(bpf_uprobe_opts, options, .ref_ctr_offset = semaphore_offset, .bpf_cookie = cookie);
    return bpf_program__attach_uprobe_opts(program, pid, binary_path, offset, &options);
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int tt_pidfd_open(int pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}
