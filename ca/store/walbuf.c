/*
 * walbuf.c: the WAL-gathering VFS of walbuf.h.
 *
 * The default VFS opens every file into our sqlite3_file as it would
 * into its own (its struct first, at the same address), so every file
 * but a WAL keeps the default methods and costs nothing.  A WAL gets
 * the methods below, which call the default ones on the same pointer;
 * the gathered bytes live in a struct wal_gather after the default
 * VFS's szOsFile bytes.
 *
 * A write that continues the gathered bytes (the next frame, or the
 * page after its header) is copied; any other write first writes what
 * is gathered.  Whatever would let sqlite or the file tell gathered
 * bytes apart from written ones (xRead, xTruncate, xSync, xFileSize,
 * xFileControl, the shm and fetch calls, xClose) first writes them.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ca/store/walbuf.h"

#define WALBUF_NAME "jitca-walbuf"
/* Enough for a batch's COMMIT (STORE_BATCH_MAX units of a few pages);
 * a larger transaction writes in pieces of this size. */
#define WALBUF_CAP (1024u * 1024)
/* At most this much per call of the default VFS's xWrite: the unix VFS
 * keeps only the low 17 bits of a write's length (sqlite never writes
 * more than a page itself), so 128 KiB or more would be cut short. */
#define WALBUF_WRITE_MAX (124u * 1024)

struct wal_gather {
	const sqlite3_io_methods *real; /* the default VFS's methods */
	unsigned char *buf; /* WALBUF_CAP bytes once a write comes */
	sqlite3_int64 off; /* where buf[0] goes in the file */
	size_t len; /* bytes gathered */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs wb_vfs;
static size_t gather_at; /* offset of a file's struct wal_gather */
static pthread_once_t wb_once = PTHREAD_ONCE_INIT;
static int wb_ok;

static struct wal_gather *
gather_of(sqlite3_file *f)
{
	return (struct wal_gather *)(void *)((char *)f + gather_at);
}

/* Write what is gathered; SQLITE_OK or the write's error. */
static int
gather_flush(sqlite3_file *f)
{
	struct wal_gather *g = gather_of(f);
	size_t done, n;
	int rc = SQLITE_OK;

	for (done = 0; rc == SQLITE_OK && done < g->len; done += n) {
		n = g->len - done < WALBUF_WRITE_MAX ? g->len - done
						     : WALBUF_WRITE_MAX;
		rc = g->real->xWrite(
		    f, g->buf + done, (int)n, g->off + (sqlite3_int64)done);
	}
	g->len = 0;
	return rc;
}

static int
wb_close(sqlite3_file *f)
{
	struct wal_gather *g = gather_of(f);
	int rc = gather_flush(f), rc2;

	rc2 = g->real->xClose(f);
	free(g->buf);
	g->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xRead(f, p, n, off);
}

static int
wb_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct wal_gather *g = gather_of(f);
	size_t len = n > 0 ? (size_t)n : 0;
	int rc;

	if (g->len > 0 &&
	    (off != g->off + (sqlite3_int64)g->len ||
		len > WALBUF_CAP - g->len) &&
	    (rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	if (len > WALBUF_CAP)
		return g->real->xWrite(f, p, n, off);
	if (g->buf == NULL && (g->buf = malloc(WALBUF_CAP)) == NULL)
		return g->real->xWrite(f, p, n, off); /* no room: as before */
	if (g->len == 0)
		g->off = off;
	memcpy(g->buf + g->len, p, len);
	g->len += len;
	return SQLITE_OK;
}

static int
wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xTruncate(f, size);
}

static int
wb_sync(sqlite3_file *f, int flags)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xSync(f, flags);
}

static int
wb_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xFileSize(f, size);
}

static int
wb_lock(sqlite3_file *f, int lock)
{
	return gather_of(f)->real->xLock(f, lock);
}

static int
wb_unlock(sqlite3_file *f, int lock)
{
	return gather_of(f)->real->xUnlock(f, lock);
}

static int
wb_check_reserved(sqlite3_file *f, int *out)
{
	return gather_of(f)->real->xCheckReservedLock(f, out);
}

static int
wb_file_control(sqlite3_file *f, int op, void *arg)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xFileControl(f, op, arg);
}

static int
wb_sector_size(sqlite3_file *f)
{
	return gather_of(f)->real->xSectorSize(f);
}

static int
wb_device(sqlite3_file *f)
{
	return gather_of(f)->real->xDeviceCharacteristics(f);
}

/* The shm and fetch calls (a WAL file gets none from sqlite; forwarded
 * for completeness, after a flush, where the default VFS has them). */
static int
wb_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	if (g->real->iVersion < 2 || g->real->xShmMap == NULL)
		return SQLITE_IOERR;
	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xShmMap(f, pg, pgsz, extend, pp);
}

static int
wb_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct wal_gather *g = gather_of(f);

	if (g->real->iVersion < 2 || g->real->xShmLock == NULL)
		return SQLITE_IOERR;
	return g->real->xShmLock(f, offset, n, flags);
}

static void
wb_shm_barrier(sqlite3_file *f)
{
	struct wal_gather *g = gather_of(f);

	if (g->real->iVersion >= 2 && g->real->xShmBarrier != NULL)
		g->real->xShmBarrier(f);
}

static int
wb_shm_unmap(sqlite3_file *f, int del)
{
	struct wal_gather *g = gather_of(f);

	if (g->real->iVersion < 2 || g->real->xShmUnmap == NULL)
		return SQLITE_OK;
	return g->real->xShmUnmap(f, del);
}

static int
wb_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	*pp = NULL;
	if (g->real->iVersion < 3 || g->real->xFetch == NULL)
		return SQLITE_OK; /* no mapping: sqlite reads instead */
	if ((rc = gather_flush(f)) != SQLITE_OK)
		return rc;
	return g->real->xFetch(f, off, n, pp);
}

static int
wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	struct wal_gather *g = gather_of(f);

	if (g->real->iVersion < 3 || g->real->xUnfetch == NULL)
		return SQLITE_OK;
	return g->real->xUnfetch(f, off, p);
}

static const sqlite3_io_methods wb_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device,
    .xShmMap = wb_shm_map,
    .xShmLock = wb_shm_lock,
    .xShmBarrier = wb_shm_barrier,
    .xShmUnmap = wb_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = wb_unfetch,
};

/* The default VFS opens the file into f; a WAL then gets our methods. */
static int
wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct wal_gather *g = gather_of(f);
	int rc;

	(void)vfs;
	memset(g, 0, sizeof(*g));
	rc = real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
	if (rc != SQLITE_OK || f->pMethods == NULL ||
	    (flags & SQLITE_OPEN_WAL) == 0)
		return rc;
	g->real = f->pMethods;
	f->pMethods = &wb_methods;
	return SQLITE_OK;
}

static void
wb_register(void)
{
	if ((real_vfs = sqlite3_vfs_find(NULL)) == NULL)
		return;
	/* Our state after the default file, 8-aligned. */
	gather_at = ((size_t)real_vfs->szOsFile + 7) & ~(size_t)7;
	wb_vfs = *real_vfs;
	wb_vfs.pNext = NULL;
	wb_vfs.zName = WALBUF_NAME;
	wb_vfs.szOsFile = (int)(gather_at + sizeof(struct wal_gather));
	wb_vfs.xOpen = wb_open;
	wb_ok = sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK;
}

const char *
walbuf_vfs(void)
{
	(void)pthread_once(&wb_once, wb_register);
	return wb_ok ? WALBUF_NAME : NULL;
}
