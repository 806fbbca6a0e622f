#include "fd_io.h"

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

/* op: 0 read, 1 write, 2 pread at *offset (advanced). */
static int full(int fd, void *buf, size_t len, int op, uint64_t offset)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = op == 0 ? read(fd, p, len)
		          : op == 1 ? write(fd, p, len)
		                    : pread(fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int fd_read_full(int fd, void *buf, size_t len)
{
	return full(fd, buf, len, 0, 0);
}

int fd_write_full(int fd, const void *buf, size_t len)
{
	return full(fd, (void *)buf, len, 1, 0);
}

int fd_pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	return full(fd, buf, len, 2, offset);
}
