/*
 * fileio.c: the descriptor loops of fileio.h.  Shared by cakey.c,
 * ca/krl.c and ca/config.c so that EINTR, short writes and the
 * "one byte more means too large" check are written once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer/fileio.h"

int
fileio_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ERR_SYSTEM;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_read_bounded(int fd, uint8_t *buf, size_t max, size_t *len)
{
	size_t got = 0;
	ssize_t n;
	uint8_t extra;

	*len = 0;
	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ERR_SYSTEM;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == max) {
		do {
			n = read(fd, &extra, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 0)
			return n < 0 ? ERR_SYSTEM : ERR_TOO_LARGE;
	}
	*len = got;
	return 0;
}

int
fileio_dir_sync(const char *path)
{
	char *dir = NULL;
	const char *slash;
	int fd = -1, saved, r = ERR_INTERNAL;

	if (path == NULL || *path == '\0')
		return ERR_INVALID_ARG;
	if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		r = ERR_SYSTEM;
		goto out;
	}
	r = 0;
out:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);
	free(dir);
	errno = saved;
	return r;
}
