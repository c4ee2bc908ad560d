/*
 * fileio.h: the bounded file I/O of both programs, written once: the
 * descriptor loops (write all of a buffer, read a whole file up to a
 * bound, fsync the directory that holds a path), and on top of them the
 * three ways jitca touches a small file:
 *
 *   fileio_read_small()    a whole regular file of at most max bytes into
 *                          a new NUL-terminated buffer;
 *   fileio_write_atomic()  replace a file: a temporary file beside it,
 *                          fsync, rename, fsync of the directory, so a
 *                          reader sees the old or the new file, whole;
 *   fileio_write_new()     create a file that must not exist yet
 *                          (O_EXCL, no symlink followed), fsync of the
 *                          file and the directory.
 *
 * Used by signer/cakey.c (the CA key), signer/krl.c (the KRL), ca/config.c
 * (jitca.json), web/jitcad/ (ca.pub, key files) and client/cconf.c (the
 * client's files).  These functions retry EINTR and short transfers, and
 * leave errno as the failing call set it (ENOENT, EEXIST: for the
 * caller's message).  They do not print.
 */
#ifndef JITCA_FILEIO_H
#define JITCA_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "signer/err.h"

/* Write all len bytes of p to fd.  ERR_SYSTEM when write fails (or
 * writes nothing). */
MUST_CHECK int fileio_write_all(int fd, const void *p, size_t len);
/* Read fd to its end into buf (room for max bytes); *len gets the size.
 * ERR_TOO_LARGE when there is more than max, ERR_SYSTEM when read
 * fails. */
MUST_CHECK int fileio_read_bounded(
    int fd, uint8_t *buf, size_t max, size_t *len);
/* fsync the directory holding path ("." for a bare name, "/" for a name
 * in the root).  ERR_ALLOC, ERR_SYSTEM. */
MUST_CHECK int fileio_dir_sync(const char *path);

/*
 * Read the regular file path (at most max bytes) into *out, a new buffer
 * with a NUL after the data (free it; wipe it first if it held a
 * secret); *len (may be NULL) gets the size.  ERR_SYSTEM (errno: ENOENT,
 * EISDIR for anything but a regular file, ...), ERR_TOO_LARGE, ERR_ALLOC.
 */
MUST_CHECK int fileio_read_small(
    const char *path, size_t max, char **out, size_t *len);
/* Replace path with data, mode, atomically (see above).  A failure
 * before the rename leaves path as it was.  ERR_SYSTEM, ERR_ALLOC,
 * ERR_INVALID_ARG. */
MUST_CHECK int fileio_write_atomic(
    const char *path, const void *data, size_t len, mode_t mode);
/* Create path with data and mode; ERR_SYSTEM with errno EEXIST when it
 * exists.  A failure after the create removes the partial file. */
MUST_CHECK int fileio_write_new(
    const char *path, const void *data, size_t len, mode_t mode);

#endif /* JITCA_FILEIO_H */
