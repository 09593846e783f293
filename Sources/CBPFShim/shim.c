#include "cbpf_shim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

struct bpf_link *tt_attach_usdt(struct bpf_program *program, int pid,
                                const char *binary_path, const char *provider,
                                const char *name, uint64_t cookie)
{
    LIBBPF_OPTS(bpf_usdt_opts, options, .usdt_cookie = cookie);
    return bpf_program__attach_usdt(program, pid, binary_path, provider, name, &options);
}
