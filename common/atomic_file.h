/*
 * Atomic, durable file creation for keys, certificates and manifests.
 *
 * atomic_file_create() writes `len` bytes to a temporary file in the same
 * directory with mode `mode`, fsyncs it, then publishes it under `path` with
 * link(2), which never replaces an existing file, and fsyncs the directory.
 * Either the complete file appears at `path` or nothing does.
 *
 * Returns 0 on success, -1 with errno set on failure (EEXIST when `path`
 * already exists: the existing file is left untouched).
 */
#ifndef CONCIERGE_ATOMIC_FILE_H
#define CONCIERGE_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

int atomic_file_create(const char *path, const void *data, size_t len, mode_t mode);

/* Creates directory `path` (one level) with `mode` if missing; 0 or -1/errno. */
int ensure_directory(const char *path, mode_t mode);

#endif
