// The C surface tapyrus-trace uses: libbpf, libelf, and a few helpers for what
// Swift cannot express directly (option structs with size fields, varargs
// logging callbacks). Everything above this module is Swift.
#ifndef TAPYRUS_TRACE_CBPF_SHIM_H
#define TAPYRUS_TRACE_CBPF_SHIM_H

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
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

/// Attaches a program to every site of one USDT probe of `binary_path`,
/// for process `pid` (-1: every process), with `cookie` as its BPF cookie.
/// Returns NULL with errno set on failure.
struct bpf_link *tt_attach_usdt(struct bpf_program *program, int pid,
                                const char *binary_path, const char *provider,
                                const char *name, uint64_t cookie);

#endif
