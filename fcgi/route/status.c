#include "route/status.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/clock.h"

static int64_t
uptime_s(const struct scoreboard *sb)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
	    sb->started_ms) / 1000;
}

static void
count_states(const struct scoreboard *sb, unsigned n[SB_STATE_COUNT])
{
	memset(n, 0, sizeof(unsigned) * SB_STATE_COUNT);
	for (unsigned i = 0; i < SB_SLOTS; i++) {
		int st = sb->slots[i].state;

		if (sb->slots[i].pid > 0 && st > SB_FREE && st < SB_STATE_COUNT)
			n[st]++;
	}
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void
status_json(const struct scoreboard *sb, const struct config *cfg,
    const struct live *live, struct membuf *m)
{
	unsigned n[SB_STATE_COUNT], total = 0;
	uint64_t count = 0;
	int64_t now = clock_ms();
	bool first = true;

	count_states(sb, n);
	for (int s = SB_IDLE; s < SB_STATE_COUNT; s++)
		total += n[s];
	json_raw(m, "{\"version\": ");
	json_str(m, MF_VERSION);
	json_raw(m, ", \"uptime\": %lld, \"workers\": {\"configured\": %u, "
	    "\"total\": %u", (long long)uptime_s(sb), cfg->workers, total);
	for (int s = SB_IDLE; s < SB_STATE_COUNT; s++)
		json_raw(m, ", \"%s\": %u", sb_state_name(s), n[s]);
	json_raw(m, "}, \"requests\": {\"2xx\": %llu, \"3xx\": %llu, "
	    "\"4xx\": %llu, \"5xx\": %llu}, \"errors\": {",
	    (unsigned long long)load(&sb->by_class[2]),
	    (unsigned long long)load(&sb->by_class[3]),
	    (unsigned long long)load(&sb->by_class[4]),
	    (unsigned long long)load(&sb->by_class[5]));
	/* A client that left is no error of ours: counted on its own. */
	for (int k = ERR_NONE + 1; k < ERR_KIND_COUNT; k++)
		if (k != ERR_GONE)
			json_raw(m, "%s\"%s\": %llu", k > 1 ? ", " : "",
			    err_kind_name(k),
			    (unsigned long long)load(&sb->errors[k]));
	json_raw(m, "}, \"clients_gone\": %llu",
	    (unsigned long long)load(&sb->errors[ERR_GONE]));
	json_raw(m, ", \"latency_ms\": {\"buckets\": [");
	for (unsigned b = 0; b <= SB_BUCKETS; b++) {
		count += load(&sb->latency[b]);
		if (b < SB_BUCKETS)
			json_raw(m, "%s{\"le\": %u, \"count\": %llu}", b ? ", " : "",
			    sb_bucket_le[b], (unsigned long long)count);
		else
			json_raw(m, ", {\"le\": \"+Inf\", \"count\": %llu}",
			    (unsigned long long)count);
	}
	json_raw(m, "], \"sum\": %llu, \"count\": %llu}, \"streams\": {"
	    "\"active\": %u, \"max\": %u, \"refused\": %llu}, ",
	    (unsigned long long)load(&sb->latency_sum_ms),
	    (unsigned long long)count,
	    __atomic_load_n(&sb->streams, __ATOMIC_RELAXED), cfg->max_streams,
	    (unsigned long long)load(&sb->streams_refused));
	json_raw(m, "\"viewers\": {\"active\": %u, \"max\": %u, "
	    "\"refused\": %llu, \"process\": %d}, \"sources\": [",
	    live != NULL ? __atomic_load_n(&live->sh->viewers, __ATOMIC_RELAXED) : 0,
	    cfg->max_viewers, live != NULL ?
	    (unsigned long long)(uint64_t)__atomic_load_n(&live->sh->viewers_refused, __ATOMIC_RELAXED) : 0ull,
	    live != NULL ? (int)live->sh->fanout : 0);
	for (unsigned i = 0; live != NULL && i < LIVE_RINGS; i++) {
		const struct live_ring *r = &live->rings[i];

		if (!r->assigned)
			continue;
		json_raw(m, "%s{\"name\": ", first ? "" : ", ");
		json_str(m, r->name);
		json_raw(m, ", \"reader\": %d, \"viewers\": %u, \"frames\": %llu, "
		    "\"reconnects\": %llu, \"h264\": {\"running\": %s, "
		    "\"remuxed\": %s, \"runs\": %llu, \"fragments\": %llu}}",
		    (int)r->reader, r->viewers,
		    (unsigned long long)r->frames_in,
		    (unsigned long long)r->reconnects,
		    r->h264.running ? "true" : "false",
		    r->h264.remuxed ? "true" : "false",
		    (unsigned long long)r->h264.runs,
		    (unsigned long long)r->h264.frags_out);
		first = false;
	}
	first = true;
	json_raw(m, "], \"bytes\": %llu, "
	    "\"timeouts\": %llu, \"crashes\": %llu, \"slots\": [",
	    (unsigned long long)load(&sb->bytes),
	    (unsigned long long)load(&sb->timeouts),
	    (unsigned long long)load(&sb->crashes));
	for (unsigned i = 0; i < SB_SLOTS; i++) {
		const struct sb_slot *s = &sb->slots[i];
		bool busy = s->state >= SB_READING;

		if (s->pid <= 0)
			continue;
		json_raw(m, "%s{\"pid\": %d, \"state\": ", first ? "" : ", ",
		    (int)s->pid);
		json_str(m, sb_state_name(s->state));
		json_raw(m, ", \"generation\": %u, \"requests\": %llu, "
		    "\"bytes\": %llu", s->generation,
		    (unsigned long long)s->requests, (unsigned long long)s->bytes);
		if (busy) {
			json_raw(m, ", \"method\": ");
			json_str(m, s->method);
			json_raw(m, ", \"uri\": ");
			json_str(m, s->uri);
			json_raw(m, ", \"running_ms\": %lld",
			    (long long)(now - s->request_ms));
		}
		json_raw(m, "}");
		first = false;
	}
	json_raw(m, "]}\n");
}

void
status_prometheus(const struct scoreboard *sb, const struct config *cfg,
    const struct live *live, struct membuf *m)
{
	static const char *const classes[] = { "2xx", "3xx", "4xx", "5xx" };
	unsigned n[SB_STATE_COUNT];
	uint64_t count = 0;

	(void)cfg;
	count_states(sb, n);
	json_raw(m, "# HELP mediafcgi_info Version of the running program.\n"
	    "# TYPE mediafcgi_info gauge\nmediafcgi_info{version=\"%s\"} 1\n",
	    MF_VERSION);
	json_raw(m, "# HELP mediafcgi_uptime_seconds Seconds since the master started.\n"
	    "# TYPE mediafcgi_uptime_seconds gauge\nmediafcgi_uptime_seconds %lld\n",
	    (long long)uptime_s(sb));
	json_raw(m, "# HELP mediafcgi_workers Worker processes by state.\n"
	    "# TYPE mediafcgi_workers gauge\n");
	for (int s = SB_IDLE; s < SB_STATE_COUNT; s++)
		json_raw(m, "mediafcgi_workers{state=\"%s\"} %u\n",
		    sb_state_name(s), n[s]);
	json_raw(m, "# HELP mediafcgi_requests_total Answers by status class.\n"
	    "# TYPE mediafcgi_requests_total counter\n");
	for (int c = 0; c < 4; c++)
		json_raw(m, "mediafcgi_requests_total{class=\"%s\"} %llu\n",
		    classes[c], (unsigned long long)load(&sb->by_class[c + 2]));
	json_raw(m, "# HELP mediafcgi_errors_total Failed requests by kind.\n"
	    "# TYPE mediafcgi_errors_total counter\n");
	for (int k = ERR_NONE + 1; k < ERR_KIND_COUNT; k++)
		if (k != ERR_GONE)
			json_raw(m, "mediafcgi_errors_total{kind=\"%s\"} %llu\n",
			    err_kind_name(k),
			    (unsigned long long)load(&sb->errors[k]));
	json_raw(m, "# HELP mediafcgi_clients_gone_total Requests whose client "
	    "left before the answer was sent.\n"
	    "# TYPE mediafcgi_clients_gone_total counter\n"
	    "mediafcgi_clients_gone_total %llu\n",
	    (unsigned long long)load(&sb->errors[ERR_GONE]));
	json_raw(m, "# HELP mediafcgi_request_duration_seconds Time to answer.\n"
	    "# TYPE mediafcgi_request_duration_seconds histogram\n");
	for (unsigned b = 0; b <= SB_BUCKETS; b++) {
		count += load(&sb->latency[b]);
		if (b < SB_BUCKETS)
			json_raw(m, "mediafcgi_request_duration_seconds_bucket"
			    "{le=\"%g\"} %llu\n", sb_bucket_le[b] / 1000.0,
			    (unsigned long long)count);
		else
			json_raw(m, "mediafcgi_request_duration_seconds_bucket"
			    "{le=\"+Inf\"} %llu\n", (unsigned long long)count);
	}
	json_raw(m, "mediafcgi_request_duration_seconds_sum %g\n"
	    "mediafcgi_request_duration_seconds_count %llu\n",
	    load(&sb->latency_sum_ms) / 1000.0, (unsigned long long)count);
	json_raw(m, "# HELP mediafcgi_sent_bytes_total Body bytes sent.\n"
	    "# TYPE mediafcgi_sent_bytes_total counter\n"
	    "mediafcgi_sent_bytes_total %llu\n"
	    "# HELP mediafcgi_request_timeouts_total Requests ended by request_timeout.\n"
	    "# TYPE mediafcgi_request_timeouts_total counter\n"
	    "mediafcgi_request_timeouts_total %llu\n"
	    "# HELP mediafcgi_worker_crashes_total Workers that died of a signal.\n"
	    "# TYPE mediafcgi_worker_crashes_total counter\n"
	    "mediafcgi_worker_crashes_total %llu\n",
	    (unsigned long long)load(&sb->bytes),
	    (unsigned long long)load(&sb->timeouts),
	    (unsigned long long)load(&sb->crashes));
	json_raw(m, "# HELP mediafcgi_streams Stream slots taken.\n"
	    "# TYPE mediafcgi_streams gauge\nmediafcgi_streams %u\n"
	    "# HELP mediafcgi_streams_refused_total Streams refused for want of a slot.\n"
	    "# TYPE mediafcgi_streams_refused_total counter\n"
	    "mediafcgi_streams_refused_total %llu\n",
	    __atomic_load_n(&sb->streams, __ATOMIC_RELAXED),
	    (unsigned long long)load(&sb->streams_refused));
	if (live == NULL || live->sh == NULL)
		return;
	json_raw(m, "# HELP mediafcgi_viewers Live viewers (all sources).\n"
	    "# TYPE mediafcgi_viewers gauge\nmediafcgi_viewers %u\n"
	    "# HELP mediafcgi_viewers_refused_total Viewers refused (max_viewers).\n"
	    "# TYPE mediafcgi_viewers_refused_total counter\n"
	    "mediafcgi_viewers_refused_total %llu\n",
	    __atomic_load_n(&live->sh->viewers, __ATOMIC_RELAXED),
	    (unsigned long long)(uint64_t)__atomic_load_n(&live->sh->viewers_refused, __ATOMIC_RELAXED));
	json_raw(m, "# HELP mediafcgi_source_viewers Viewers of each live source.\n"
	    "# TYPE mediafcgi_source_viewers gauge\n");
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if (live->rings[i].assigned)
			json_raw(m, "mediafcgi_source_viewers{source=\"%s\"} %u\n",
			    live->rings[i].name, live->rings[i].viewers);
	json_raw(m, "# HELP mediafcgi_source_frames_total Frames each source's reader produced.\n"
	    "# TYPE mediafcgi_source_frames_total counter\n");
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if (live->rings[i].assigned)
			json_raw(m, "mediafcgi_source_frames_total{source=\"%s\"} %llu\n",
			    live->rings[i].name,
			    (unsigned long long)live->rings[i].frames_in);
	json_raw(m, "# HELP mediafcgi_source_h264_fragments_total H.264 fragments "
	    "each source's H.264 rendition made (encoded or remuxed).\n"
	    "# TYPE mediafcgi_source_h264_fragments_total counter\n");
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if (live->rings[i].assigned)
			json_raw(m, "mediafcgi_source_h264_fragments_total{source=\"%s\"} "
			    "%llu\n", live->rings[i].name,
			    (unsigned long long)live->rings[i].h264.frags_out);
	json_raw(m, "# HELP mediafcgi_source_up Whether each source's reader runs.\n"
	    "# TYPE mediafcgi_source_up gauge\n");
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if (live->rings[i].assigned)
			json_raw(m, "mediafcgi_source_up{source=\"%s\"} %d\n",
			    live->rings[i].name, live->rings[i].reader > 0);
}

bool
status_is_loopback(const char *addr)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	/* ::ffff:127.x.y.z, as a dual-stack listener reports IPv4 clients */
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

bool
status_allowed(const char *allow, const char *addr)
{
	const char *p = allow;

	if (addr == NULL)
		return false;
	/* Not configured: this machine only (the page names requests in
	 * flight, sources and counts, nothing for the world). */
	if (allow == NULL)
		return status_is_loopback(addr);
	while (*p) {
		size_t n;

		p += strspn(p, " ,\t");
		n = strcspn(p, " ,\t");
		if (n > 0 && strlen(addr) == n && strncmp(p, addr, n) == 0)
			return true;
		p += n;
	}
	return false;
}
