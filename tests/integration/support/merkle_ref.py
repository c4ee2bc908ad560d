"""merkle_ref.py: an independent reference for the ledger's Merkle tree
(RFC 6962 / RFC 9162 with hashlib) and the red-team edits of
test_ledger_proofs.c, over the ledger file with Python's sqlite3.

  merkle_ref.py check DB PROOF CHECKPOINT   proof JSON against the events
  merkle_ref.py rewrite DB                  edit seq 2, recompute everything
  merkle_ref.py truncate K DB               keep seq <= K, reset the head
  merkle_ref.py wipe DB                     delete every event, reset the head

Exit 0 on success; a check that fails prints why and exits 1.
"""
import base64
import hashlib
import json
import sqlite3
import sys

ZERO = "0" * 64


def canonical(seq, t, typ, actor, subject, details):
    def s(x):
        return json.dumps(x, ensure_ascii=True)
    return "[%d,%d,%s,%s,%s,%s]" % (seq, t, s(typ), s(actor), s(subject),
                                    details)


def leaf(row):
    return hashlib.sha256(b"\x00" + canonical(*row).encode()).digest()


def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    """RFC 9162 2.1.3.1 PATH(m, D[n])."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def rows(db):
    c = sqlite3.connect(db)
    r = c.execute("SELECT seq, time, type, actor, subject, details FROM"
                  " events ORDER BY seq").fetchall()
    c.close()
    return r


def check(db, proof_file, cp_file):
    p = json.load(open(proof_file))
    cp = open(cp_file).read().split("\n")
    size = int(cp[1])
    leaves = [leaf(r) for r in rows(db)][:size]
    want = {
        "tree_size": size,
        "leaf_index": p["leaf_index"],
        "leaf_hash": leaves[p["leaf_index"]].hex(),
        "path": [h.hex() for h in path(p["leaf_index"], leaves)],
        "root": base64.b64encode(mth(leaves)).decode(),
    }
    if cp[2] != want["root"]:
        print("checkpoint root %s, reference %s" % (cp[2], want["root"]))
        return 1
    for k, v in want.items():
        if p[k] != v:
            print("%s: jitcad %r, reference %r" % (k, p[k], v))
            return 1
    return 0


def unlock(c):
    for t in ("events_no_update", "events_no_delete",
              "merkle_nodes_no_update", "merkle_nodes_no_delete",
              "checkpoints_no_update", "checkpoints_no_delete"):
        c.execute("DROP TRIGGER IF EXISTS " + t)


def rebuild(c):
    """Recompute every chain hash, the head and the whole tree, and drop
    the stored checkpoints: what an attacker with write access does."""
    prev = ZERO
    leaves = []
    for r in c.execute("SELECT seq, time, type, actor, subject, details"
                       " FROM events ORDER BY seq").fetchall():
        h = hashlib.sha256((prev + "\n" + canonical(*r)).encode()).hexdigest()
        c.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?",
                  (prev, h, r[0]))
        prev = h
        leaves.append(leaf(r))
    n = len(leaves)
    c.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(n),))
    c.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (prev,))
    c.execute("DELETE FROM merkle_nodes")
    c.execute("DELETE FROM checkpoints")
    level, cur = 0, leaves
    while cur:
        for i, h in enumerate(cur):
            c.execute("INSERT INTO merkle_nodes VALUES(?, ?, ?)",
                      (level, i, h))
        cur = [node(cur[2 * i], cur[2 * i + 1]) for i in range(len(cur) // 2)]
        level += 1


def main(argv):
    if argv[1] == "check":
        return check(argv[2], argv[3], argv[4])
    c = sqlite3.connect(argv[-1])
    unlock(c)
    if argv[1] == "rewrite":
        c.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
    elif argv[1] == "truncate":
        c.execute("DELETE FROM events WHERE seq > ?", (int(argv[2]),))
    elif argv[1] == "wipe":
        c.execute("DELETE FROM events")
    else:
        return 2
    rebuild(c)
    c.commit()
    c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
