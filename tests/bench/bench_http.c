/*
 * bench_http.c: a closed-loop HTTP load driver on libcurl's multi
 * interface for `jitcad serve`: CONNS keep-alive connections, each
 * POSTing the same JSON body to URL again as soon as its previous answer
 * arrived, for SECONDS (after a warm-up of a tenth of that, at most 2 s,
 * which is not counted).  An answer counts as a certificate when it is
 * 201 and carries a "certificate" field; anything else is an error (the
 * first one is shown on stderr).
 *
 *   bench_http URL TOKEN_FILE BODY_FILE CONNS SECONDS [PID [PROBE_URL...]]
 *
 * With PID (jitcad serve's process id) it samples VmRSS from
 * /proc/PID/status each second and reports the sample at a tenth of the
 * run, the last one, and VmHWM (peak) at the end.  Prints
 *   http conns=C n=N errors=E per_s=X p50_ms=X p99_ms=X max_ms=X
 *        rss_early_kb=K rss_end_kb=K hwm_kb=K driver_cpu=F
 * where driver_cpu is the CPU this driver used and server_cpu the CPU
 * process PID used during the measured window (not its signer child),
 * both in cores: the two share the machine.
 * and child_cpu that of its first child (the signer); cpu_us_per_cert
 * is their CPU time in the window over the certificates.
 * Each PROBE_URL (at most 4) is fetched with GET and the same token on a
 * connection of its own, again 10 ms after each answer, while the load
 * runs: probeK_n, probeK_errors (not 200) and probeK_p99_ms say how
 * reads fare beside the writes.
 * Latency is from handing the request to libcurl to the last byte of
 * the answer.  Run by scripts/bench; not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/bench/bench.h"

#define BODY_MAX (64u * 1024)
#define LAT_MAX (10u * 1000 * 1000)
#define CONNS_MAX 1024
#define PROBES_MAX 4
#define PROBE_GAP_S 0.010

struct slot {
	CURL *h;
	char buf[BODY_MAX];
	size_t len;
	double start;
	/* Probes only: when to send again (0: in flight), the latencies. */
	int probe;
	double next_at;
	double *lat;
	uint64_t nlat, errors;
};

static size_t
on_data(char *p, size_t sz, size_t nm, void *ctx)
{
	struct slot *s = ctx;
	size_t n = sz * nm, room = sizeof(s->buf) - 1 - s->len;

	memcpy(s->buf + s->len, p, n < room ? n : room);
	s->len += n < room ? n : room;
	s->buf[s->len] = '\0';
	return n;
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b = NULL;
	size_t n;

	if (f == NULL || (b = calloc(1, BODY_MAX + 1)) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	n = fread(b, 1, BODY_MAX, f);
	fclose(f);
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		b[--n] = '\0';
	return b;
}

/* A "Vm...:" field of /proc/PID/status in kB; 0 when unknown. */
static long
proc_kb(const char *pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long v = 0;
	FILE *f;

	if (pid == NULL ||
	    snprintf(path, sizeof(path), "/proc/%s/status", pid) >=
		(int)sizeof(path) ||
	    (f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* The first child of process pid (as text into out); 0 if none. */
static int
proc_child(const char *pid, char out[32])
{
	char path[96];
	FILE *f;
	int ok;

	out[0] = '\0';
	if (pid == NULL ||
	    snprintf(path, sizeof(path), "/proc/%s/task/%s/children", pid,
		pid) >= (int)sizeof(path) ||
	    (f = fopen(path, "r")) == NULL)
		return 0;
	ok = fscanf(f, "%31s", out) == 1;
	fclose(f);
	return ok;
}

/* CPU seconds (user + system, all threads) of process pid; 0 if unknown. */
static double
proc_cpu(const char *pid)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long ut, st;
	size_t n;
	FILE *f;
	int i;

	if (pid == NULL ||
	    snprintf(path, sizeof(path), "/proc/%s/stat", pid) >=
		(int)sizeof(path) ||
	    (f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the ")" closing the command name: state is field 3,
	 * utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p++;
	for (i = 3; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return 0;
	ut = strtoull(p + 1, &end, 10);
	if (end == p + 1 || *end != ' ')
		return 0;
	st = strtoull(end + 1, &p, 10);
	if (p == end + 1)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A probe's answer: counted when sent in the window, sent again after
 * PROBE_GAP_S. */
static void
probe_done(struct slot *s, int ok, double now, double tend)
{
	if (now <= tend) {
		if (!ok)
			s->errors++;
		else if (s->nlat < LAT_MAX / 10)
			s->lat[s->nlat++] = now - s->start;
	}
	s->len = 0;
	s->buf[0] = '\0';
	s->next_at = now + PROBE_GAP_S;
}

int
main(int argc, char **argv)
{
	struct slot *slots = NULL, *probes = NULL;
	struct curl_slist *hdr = NULL, *ghdr = NULL;
	char child[32];
	double ccpu0 = -1, ccpu = 0;
	uint64_t nprobes = 0, k;
	CURLM *m = NULL;
	CURLMsg *msg;
	char *token = NULL, *body = NULL, *auth = NULL, *pid;
	double *lat = NULL, t0, tm, tend, now, next_sample, warm;
	uint64_t conns, secs, nlat = 0, errors = 0, i;
	long rss_early = 0, rss_end = 0, code;
	int running = 0, left, shown = 0, early_taken = 0, readded, rc = 1;
	struct rusage ru;
	double cpu = 0, scpu0 = -1, scpu = 0;
	size_t alen;

	if (argc < 6 || argc > 7 + PROBES_MAX ||
	    bench_parse_u64(argv[4], 1, CONNS_MAX, &conns) != 0 ||
	    bench_parse_u64(argv[5], 1, 86400, &secs) != 0) {
		fprintf(stderr,
		    "usage: bench_http URL TOKEN_FILE BODY_FILE "
		    "CONNS SECONDS [PID [PROBE_URL...]]\n");
		return 2;
	}
	pid = argc >= 7 ? argv[6] : NULL;
	nprobes = argc > 7 ? (uint64_t)argc - 7 : 0;
	(void)proc_child(pid, child);
	if ((token = read_all(argv[2])) == NULL ||
	    (body = read_all(argv[3])) == NULL) {
		fprintf(stderr, "bench_http: cannot read token or body\n");
		goto out;
	}
	alen = strlen(token) + 32;
	if ((auth = malloc(alen)) == NULL ||
	    snprintf(auth, alen, "Authorization: Bearer %s", token) >=
		(int)alen ||
	    (lat = malloc(LAT_MAX * sizeof(*lat))) == NULL ||
	    (slots = calloc(conns, sizeof(*slots))) == NULL ||
	    (probes = calloc(PROBES_MAX, sizeof(*probes))) == NULL)
		goto out;
	for (k = 0; k < nprobes; k++) {
		if ((probes[k].lat = malloc(LAT_MAX / 10 * sizeof(double))) ==
		    NULL)
			goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (m = curl_multi_init()) == NULL)
		goto out;
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	if (hdr == NULL || (ghdr = curl_slist_append(NULL, auth)) == NULL)
		goto out;

	warm = (double)secs / 10.0 < 2.0 ? (double)secs / 10.0 : 2.0;
	t0 = bench_now();
	tm = t0 + warm;
	tend = tm + (double)secs;
	next_sample = tm + 1.0;
	for (i = 0; i < conns; i++) {
		struct slot *s = &slots[i];

		if ((s->h = curl_easy_init()) == NULL)
			goto out;
		curl_easy_setopt(s->h, CURLOPT_URL, argv[1]);
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(
		    s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 30L);
		s->start = bench_now();
		if (curl_multi_add_handle(m, s->h) != CURLM_OK)
			goto out;
	}
	for (k = 0; k < nprobes; k++) {
		struct slot *s = &probes[k];

		if ((s->h = curl_easy_init()) == NULL)
			goto out;
		s->probe = 1;
		curl_easy_setopt(s->h, CURLOPT_URL, argv[7 + k]);
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, ghdr);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 30L);
		s->next_at = tm;
	}
	do {
		readded = 0;
		now = bench_now();
		for (k = 0; k < nprobes; k++) {
			struct slot *s = &probes[k];

			if (s->next_at > 0 && now >= s->next_at && now < tend) {
				s->next_at = 0;
				s->start = now;
				if (curl_multi_add_handle(m, s->h) != CURLM_OK)
					goto out;
				readded = 1;
			}
		}
		if (curl_multi_perform(m, &running) != CURLM_OK)
			goto out;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct slot *s = NULL;
			CURL *h = msg->easy_handle;
			int ok;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&s);
			code = 0;
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
			now = bench_now();
			if (s->probe) {
				probe_done(s,
				    msg->data.result == CURLE_OK && code == 200,
				    now, tend);
				curl_multi_remove_handle(m, h);
				continue;
			}
			ok = msg->data.result == CURLE_OK && code == 201 &&
			    strstr(s->buf, "\"certificate\"") != NULL;
			if (s->start >= tm && now <= tend) {
				if (!ok)
					errors++;
				else if (nlat < LAT_MAX)
					lat[nlat++] = now - s->start;
			}
			if (!ok && !shown) {
				shown = 1;
				fprintf(stderr,
				    "bench_http: first error: %s, HTTP %ld: "
				    "%.300s\n",
				    curl_easy_strerror(msg->data.result), code,
				    s->buf);
			}
			curl_multi_remove_handle(m, h);
			s->len = 0;
			s->buf[0] = '\0';
			if (now < tend) {
				s->start = now;
				if (curl_multi_add_handle(m, h) != CURLM_OK)
					goto out;
				readded = 1;
			}
		}
		/* A re-added request goes out at once; wait only when every
		 * connection is waiting for its answer. */
		if (!readded &&
		    curl_multi_poll(m, NULL, 0, nprobes > 0 ? 2 : 100, NULL) !=
			CURLM_OK)
			goto out;
		now = bench_now();
		if (pid != NULL && scpu0 < 0 && now >= tm) {
			scpu0 = proc_cpu(pid);
			ccpu0 = child[0] != '\0' ? proc_cpu(child) : 0;
		}
		if (pid != NULL && now >= next_sample) {
			rss_end = proc_kb(pid, "VmRSS");
			if (!early_taken && now >= tm + (double)secs / 10.0) {
				rss_early = rss_end;
				early_taken = 1;
			}
			next_sample = now + 1.0;
		}
	} while (running > 0 || now < tend);

	if (scpu0 >= 0) {
		scpu = (proc_cpu(pid) - scpu0) / (double)secs;
		if (child[0] != '\0')
			ccpu = (proc_cpu(child) - ccpu0) / (double)secs;
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
			(double)ru.ru_stime.tv_usec) /
			1e6;
	printf("http conns=%llu n=%llu errors=%llu per_s=%.0f p50_ms=%.2f "
	       "p99_ms=%.2f max_ms=%.2f rss_early_kb=%ld rss_end_kb=%ld "
	       "hwm_kb=%ld driver_cpu=%.2f server_cpu=%.2f child_cpu=%.2f "
	       "cpu_us_per_cert=%.0f",
	    (unsigned long long)conns, (unsigned long long)nlat,
	    (unsigned long long)errors, (double)nlat / (double)secs,
	    bench_percentile(lat, nlat, 50) * 1000.0,
	    bench_percentile(lat, nlat, 99) * 1000.0,
	    bench_percentile(lat, nlat, 100) * 1000.0, rss_early,
	    pid != NULL ? proc_kb(pid, "VmRSS") : 0, proc_kb(pid, "VmHWM"),
	    cpu / (bench_now() - t0), scpu, ccpu,
	    nlat > 0 ? (scpu + ccpu) * (double)secs * 1e6 / (double)nlat : 0);
	for (k = 0; k < nprobes; k++)
		printf(" probe%llu_n=%llu probe%llu_errors=%llu "
		       "probe%llu_p99_ms=%.2f",
		    (unsigned long long)k + 1,
		    (unsigned long long)probes[k].nlat,
		    (unsigned long long)k + 1,
		    (unsigned long long)probes[k].errors,
		    (unsigned long long)k + 1,
		    bench_percentile(probes[k].lat, probes[k].nlat, 99) *
			1000.0);
	printf("\n");
	rc = 0;
out:
	if (slots != NULL) {
		for (i = 0; i < conns; i++) {
			if (slots[i].h != NULL) {
				curl_multi_remove_handle(m, slots[i].h);
				curl_easy_cleanup(slots[i].h);
			}
		}
	}
	if (probes != NULL) {
		for (k = 0; k < PROBES_MAX; k++) {
			if (probes[k].h != NULL) {
				curl_multi_remove_handle(m, probes[k].h);
				curl_easy_cleanup(probes[k].h);
			}
			free(probes[k].lat);
		}
	}
	free(probes);
	if (m != NULL)
		curl_multi_cleanup(m);
	curl_slist_free_all(hdr);
	curl_slist_free_all(ghdr);
	if (token != NULL)
		memset(token, 0, strlen(token));
	free(token);
	free(auth);
	free(body);
	free(lat);
	free(slots);
	return rc;
}
