/*
 * walbuf.h: an sqlite VFS over the default one that gathers the writes
 * of a WAL file and hands them to the file in one write when sqlite
 * syncs it, or sooner (see walbuf.c).  sqlite writes each WAL frame as
 * two writes (its header, then the page), so a COMMIT of a batch of 32
 * issuances made about 100 pwrite calls, each a system call on the
 * ledger's one-at-a-time path; with this VFS it makes one or a few.
 * Every other file (the database, its -shm) is the default VFS's as it
 * is, untouched.
 *
 * The writer's connection of ca/store/sqlite.c opens the ledger with it;
 * its readers and the checkpointer do not need it (they never write the
 * WAL).  What sqlite can observe is unchanged: a read, a size, a
 * truncate, a sync, a file control or the close of the WAL first write
 * what is gathered, so sqlite reads back what it wrote; and since the
 * sync writes it before syncing, a frame is in the file before its
 * COMMIT is durable and before the WAL index makes it visible to any
 * other connection (synchronous=FULL syncs the WAL before that).  A
 * write that fails is reported by the call that writes it (sqlite's
 * I/O error, so the transaction fails and rolls back, as when the
 * pwrite itself had failed).
 */
#ifndef JITCA_WALBUF_H
#define JITCA_WALBUF_H

/* The VFS's name, registered (not as the default) on the first call;
 * NULL when it cannot be (no default VFS, out of memory): then the
 * caller opens with the default VFS. */
const char *walbuf_vfs(void);

#endif /* JITCA_WALBUF_H */
