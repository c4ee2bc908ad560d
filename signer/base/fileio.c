/*
 * fileio.c: the bounded file I/O of fileio.h, so that EINTR, short
 * writes, the "one byte more means too large" check and the fsyncs of
 * an atomic replace are written once.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signer/base/fileio.h"

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

int
fileio_read_small(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = -1, saved, r = ERR_INTERNAL;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	/* O_NONBLOCK: a FIFO must not hang us before the S_ISREG check
	 * (reads of a regular file ignore the flag). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return ERR_SYSTEM;
	if (fstat(fd, &st) != 0) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		r = ERR_SYSTEM;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = fileio_read_bounded(fd, (uint8_t *)buf, max, &got)) != 0)
		goto out;
	buf[got] = '\0';
	*out = buf;
	buf = NULL;
	if (len != NULL)
		*len = got;
	r = 0;
out:
	saved = errno;
	if (buf != NULL) {
		/* It may hold part of a secret. */
		explicit_bzero(buf, max + 1);
		free(buf);
	}
	(void)close(fd);
	errno = saved;
	return r;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = NULL;
	size_t plen;
	int fd = -1, created = 0, saved, r = ERR_INTERNAL;

	ENSURE(path != NULL && (data != NULL || len == 0), ERR_INVALID_ARG);
	plen = strlen(path);
	ENSURE(plen > 0 && plen < PATH_MAX - 16 && path[plen - 1] != '/',
	    ERR_INVALID_ARG);
	ENSURE((tmp = malloc(plen + 12)) != NULL, ERR_ALLOC);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", 11);
	/* mkstemp: O_CREAT | O_EXCL, mode 0600, in path's directory (so
	 * the rename stays on one file system). */
	ENSURE((fd = mkstemp(tmp)) >= 0, ERR_SYSTEM);
	created = 1;
	ENSURE(fchmod(fd, mode) == 0, ERR_SYSTEM);
	TRY(fileio_write_all(fd, data, len));
	ENSURE(fsync(fd) == 0, ERR_SYSTEM);
	r = close(fd);
	fd = -1;
	ENSURE(r == 0, ERR_SYSTEM);
	ENSURE(rename(tmp, path) == 0, ERR_SYSTEM);
	created = 0; /* installed: nothing to clean up any more */
	TRY(fileio_dir_sync(path));
	r = 0;
out:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);
	if (created)
		(void)unlink(tmp);
	free(tmp);
	errno = saved;
	return r;
}

int
fileio_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = -1, created = 0, saved, r = ERR_INTERNAL;

	ENSURE(path != NULL && (data != NULL || len == 0), ERR_INVALID_ARG);
	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	ENSURE(fd >= 0, ERR_SYSTEM);
	created = 1;
	TRY(fileio_write_all(fd, data, len));
	ENSURE(fsync(fd) == 0, ERR_SYSTEM);
	r = close(fd);
	fd = -1;
	ENSURE(r == 0, ERR_SYSTEM);
	TRY(fileio_dir_sync(path));
	r = 0;
out:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);
	if (r != 0 && created)
		(void)unlink(path);
	errno = saved;
	return r;
}
