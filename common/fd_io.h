/*
 * Whole-buffer I/O on blocking descriptors: loops over short reads and
 * writes and EINTR.  0 when all `len` bytes moved, -1 otherwise (errno
 * from the failing call; 0 when the file or peer ended first).
 */
#ifndef CONCIERGE_FD_IO_H
#define CONCIERGE_FD_IO_H

#include <stddef.h>
#include <stdint.h>

int fd_read_full(int fd, void *buf, size_t len);
int fd_write_full(int fd, const void *buf, size_t len);
int fd_pread_full(int fd, void *buf, size_t len, uint64_t offset);

#endif
