/*
 * test_fileio.c: unit tests of signer/fileio.c on real files in a temp
 * dir: a write of a large buffer lands whole, bounded reads at, below and
 * above the bound, and the directory fsync for bare, rooted and nested
 * names, with the exact error codes and errno of failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "signer/err.h"
#include "signer/fileio.h"
#include "tests/lib/testutil.h"

static char *dir;

static void
setup(void)
{
	dir = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

TestSuite(fileio, .init = setup, .fini = teardown);

static int
open_file(const char *name, int flags)
{
	char *p = tu_fmt("%s/%s", dir, name);
	int fd = open(p, flags | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	free(p);
	return fd;
}

Test(fileio, write_all_then_read_bounded)
{
	size_t n = 3 * 1024 * 1024 + 7, len = 1, i;
	uint8_t *data = malloc(n), *back = malloc(n);
	int fd;

	cr_assert(data != NULL && back != NULL);
	for (i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 131 + 7);
	fd = open_file("f", O_WRONLY | O_CREAT | O_EXCL);
	cr_assert_eq(fileio_write_all(fd, data, n), 0);
	cr_assert_eq(fileio_write_all(fd, data, 0), 0);
	close(fd);

	/* Exactly at the bound: read whole. */
	fd = open_file("f", O_RDONLY);
	cr_assert_eq(fileio_read_bounded(fd, back, n, &len), 0);
	cr_assert_eq(len, n);
	cr_assert_eq(memcmp(back, data, n), 0);
	close(fd);
	/* One byte short of room: too large, nothing reported read. */
	fd = open_file("f", O_RDONLY);
	len = 1;
	cr_assert_eq(fileio_read_bounded(fd, back, n - 1, &len), ERR_TOO_LARGE);
	cr_assert_eq(len, 0);
	close(fd);
	/* More room than data. */
	fd = open_file("f", O_RDONLY);
	cr_assert_eq(fileio_read_bounded(fd, back, n, &len), 0);
	cr_assert_eq(len, n);
	close(fd);
	/* Empty file, zero bound. */
	close(open_file("empty", O_WRONLY | O_CREAT | O_EXCL));
	fd = open_file("empty", O_RDONLY);
	cr_assert_eq(fileio_read_bounded(fd, back, 0, &len), 0);
	cr_assert_eq(len, 0);
	close(fd);
	free(data);
	free(back);
}

Test(fileio, failures_say_why)
{
	uint8_t b[4];
	size_t len = 9;
	int fd = open_file("w", O_WRONLY | O_CREAT | O_EXCL);

	/* Reading a write-only descriptor, writing a read-only one. */
	errno = 0;
	cr_assert_eq(fileio_read_bounded(fd, b, sizeof(b), &len), ERR_SYSTEM);
	cr_assert_eq(errno, EBADF);
	cr_assert_eq(len, 0);
	close(fd);
	fd = open_file("w", O_RDONLY);
	errno = 0;
	cr_assert_eq(fileio_write_all(fd, "x", 1), ERR_SYSTEM);
	cr_assert_eq(errno, EBADF);
	close(fd);
}

Test(fileio, dir_sync)
{
	char *p = tu_fmt("%s/sub/name", dir), *sub = tu_fmt("%s/sub", dir);
	char *cwd = getcwd(NULL, 0);

	cr_assert_not_null(cwd);
	cr_assert_eq(fileio_dir_sync(p), ERR_SYSTEM);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(fileio_dir_sync(p), 0);
	cr_assert_eq(fileio_dir_sync("/name"), 0);
	cr_assert_eq(chdir(sub), 0);
	cr_assert_eq(fileio_dir_sync("name"), 0);
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_eq(fileio_dir_sync(""), ERR_INVALID_ARG);
	cr_assert_eq(fileio_dir_sync(NULL), ERR_INVALID_ARG);
	free(cwd);
	free(p);
	free(sub);
}
