/*
 * test_fileio.c: unit tests of signer/base/fileio.c on real files in a temp
 * dir: a write of a large buffer lands whole, bounded reads at, below and
 * above the bound, and the directory fsync for bare, rooted and nested
 * names, with the exact error codes and errno of failures; the small-file
 * reader, the atomic writer and the create-new writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "signer/err.h"
#include "signer/base/fileio.h"
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

Test(fileio, read_small)
{
	char *p = tu_fmt("%s/f", dir), *out = (char *)1;
	size_t len = 9;

	tu_write_file(p, "abc", 3, 0600);
	cr_assert_eq(fileio_read_small(p, 3, &out, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(out, "abc");
	free(out);
	cr_assert_eq(fileio_read_small(p, 2, &out, &len), ERR_TOO_LARGE);
	cr_assert_null(out);
	cr_assert_eq(len, 0);
	cr_assert_eq(fileio_read_small(dir, 100, &out, NULL), ERR_SYSTEM);
	cr_assert_eq(errno, EISDIR);
	free(p);
	/* A FIFO with no writer: refused at once, not waited on. */
	p = tu_fmt("%s/fifo", dir);
	cr_assert_eq(mkfifo(p, 0600), 0);
	cr_assert_eq(fileio_read_small(p, 100, &out, NULL), ERR_SYSTEM);
	cr_assert_eq(errno, EINVAL);
	free(p);
	p = tu_fmt("%s/missing", dir);
	cr_assert_eq(fileio_read_small(p, 100, &out, NULL), ERR_SYSTEM);
	cr_assert_eq(errno, ENOENT);
	cr_assert_null(out);
	free(p);
}

Test(fileio, write_atomic_replaces_whole)
{
	char *p = tu_fmt("%s/a", dir), *got;
	struct stat st;

	cr_assert_eq(fileio_write_atomic(p, "one", 3, 0600), 0);
	cr_assert_eq(fileio_write_atomic(p, "second", 6, 0644), 0);
	got = tu_read_file(p, NULL);
	cr_assert_str_eq(got, "second");
	free(got);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	/* Only the file: no temporary left beside it. */
	got = tu_fmt("ls -A '%s'", dir);
	{
		char *out = NULL;

		cr_assert_eq(tu_sh(got, &out, NULL), 0);
		cr_assert_str_eq(out, "a\n");
		free(out);
	}
	free(got);
	free(p);
	p = tu_fmt("%s/nodir/a", dir);
	cr_assert_eq(fileio_write_atomic(p, "x", 1, 0600), ERR_SYSTEM);
	cr_assert_eq(errno, ENOENT);
	free(p);
	cr_assert_eq(fileio_write_atomic("", "x", 1, 0600), ERR_INVALID_ARG);
}

Test(fileio, write_new_refuses_existing)
{
	char *p = tu_fmt("%s/n", dir), *l = tu_fmt("%s/link", dir), *got;
	struct stat st;

	cr_assert_eq(fileio_write_new(p, "key", 3, 0600), 0);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(fileio_write_new(p, "other", 5, 0600), ERR_SYSTEM);
	cr_assert_eq(errno, EEXIST);
	got = tu_read_file(p, NULL);
	cr_assert_str_eq(got, "key");
	free(got);
	/* A symlink is not followed, even to a missing target. */
	cr_assert_eq(symlink("target", l), 0);
	cr_assert_eq(fileio_write_new(l, "x", 1, 0600), ERR_SYSTEM);
	cr_assert_eq(errno, EEXIST);
	free(p);
	free(l);
}
