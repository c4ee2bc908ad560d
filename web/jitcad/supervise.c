/*
 * supervise.c: the supervision of the signer process by `jitcad serve`
 * (supervise.h): notices a dead or silent child, reaps it, says why on
 * stderr, marks the service degraded for /v1/health (web/api.h
 * api_signer_note()), restarts it with backoff (signer/signer.h
 * signer_restart()) and gives up when restarts keep failing.  serve.c
 * calls superv_step() from its signal loop.
 */
#define _GNU_SOURCE /* sigabbrev_np */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include "signer/err.h"
#include "signer/signer.h"
#include "web/api.h"
#include "web/jitcad/supervise.h"

/* Signer supervision: the first restart SERVE_RESTART_FIRST_MS after a
 * death, doubling to SERVE_RESTART_MAX_MS; a child that lived less than
 * SERVE_SIGNER_STABLE_MS does not reset the count, and after
 * SERVE_RESTART_TRIES failed or short-lived starts in a row jitcad exits
 * 1 (systemd's Restart= then starts it afresh). */
#define SERVE_RESTART_FIRST_MS 250
#define SERVE_RESTART_MAX_MS 4000
#define SERVE_SIGNER_STABLE_MS 30000
#define SERVE_RESTART_TRIES 6

/* Milliseconds on the monotonic clock. */
long long
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
superv_backoff(unsigned tries)
{
	long long ms = SERVE_RESTART_FIRST_MS;

	while (tries-- > 0 && ms < SERVE_RESTART_MAX_MS)
		ms *= 2;
	return ms < SERVE_RESTART_MAX_MS ? ms : SERVE_RESTART_MAX_MS;
}

/* "killed by signal 9 (SIGKILL)" / "exited with status 3". */
static void
wait_status_text(char *buf, size_t len, int st)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (SIG%s)", WTERMSIG(st),
		    sigabbrev_np(WTERMSIG(st)) != NULL
			? sigabbrev_np(WTERMSIG(st))
			: "?");
	else if (WIFEXITED(st))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else
		snprintf(buf, len, "stopped");
}

/*
 * Look after the signer: reap a dead child (no zombie), say why it died,
 * report the service degraded, restart with backoff.  Returns 0, or -1
 * when it gave up (jitcad then exits 1).
 */
int
superv_step(struct superv *sv, struct signer *s, struct api *a)
{
	char why[128], note[160];
	long long now = mono_ms();
	pid_t old = signer_pid(s);
	int st = 0, p, r;

	p = signer_poll(s, &st);
	if (!sv->down && (p == 1 || !signer_alive(s))) {
		if (p == 1)
			wait_status_text(why, sizeof(why), st);
		else
			snprintf(why, sizeof(why), "stopped answering");
		fprintf(stderr,
		    "jitcad serve: signer (pid %ld) %s; issuing certificates "
		    "is unavailable until it restarts\n",
		    (long)old, why);
		snprintf(note, sizeof(note), "pid %ld %s", (long)old, why);
		api_signer_note(a, note);
		sv->down = 1;
		if (now - sv->started_ms >= SERVE_SIGNER_STABLE_MS)
			sv->tries = 0;
		sv->next_ms = now + superv_backoff(sv->tries);
		return 0;
	}
	if (!sv->down || now < sv->next_ms)
		return 0;
	if (p == 0 && signer_alive(s))
		return 0;
	r = signer_restart(s);
	sv->tries++;
	if (r != 0) {
		fprintf(stderr,
		    "jitcad serve: cannot restart the signer (attempt %u of "
		    "%d): %s\n",
		    sv->tries, SERVE_RESTART_TRIES, err_str(r));
		snprintf(note, sizeof(note), "restart failed: %s", err_str(r));
		api_signer_note(a, note);
		if (sv->tries >= SERVE_RESTART_TRIES) {
			fprintf(stderr,
			    "jitcad serve: giving up on the signer; exiting\n");
			return -1;
		}
		sv->next_ms = now + superv_backoff(sv->tries);
		return 0;
	}
	fprintf(stderr, "jitcad serve: signer restarted (pid %ld)\n",
	    (long)signer_pid(s));
	api_signer_note(a, NULL);
	sv->down = 0;
	sv->started_ms = now;
	if (sv->tries >= SERVE_RESTART_TRIES) {
		/* It keeps dying young. */
		fprintf(stderr,
		    "jitcad serve: the signer died %u times in a row; "
		    "exiting\n",
		    sv->tries);
		return -1;
	}
	return 0;
}
