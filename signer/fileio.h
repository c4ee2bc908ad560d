/*
 * fileio.h: the descriptor loops jitca needs in more than one place:
 * writing all of a buffer, reading a whole file up to a bound, and
 * fsyncing the directory that holds a path so that a new or renamed name
 * is durable.  Used by signer/cakey.c (the CA key file), ca/krl.c (the
 * KRL) and ca/config.c (jitca.json).
 *
 * These functions retry EINTR and short transfers, and leave errno as the
 * failing call set it (for the caller's message).  They do not open
 * files, decide modes or print; nothing here allocates except
 * fileio_dir_sync()'s copy of the directory name.
 */
#ifndef JITCA_FILEIO_H
#define JITCA_FILEIO_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* JITCA_FILEIO_H */
