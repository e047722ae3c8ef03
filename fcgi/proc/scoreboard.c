#include "proc/scoreboard.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/clock.h"
#include "proc/log.h"

const unsigned sb_bucket_le[SB_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
};

struct scoreboard *
sb_new(void)
{
	struct scoreboard *sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct timespec ts;

	if (sb == MAP_FAILED)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	sb->started_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return sb;
}

void
sb_free(struct scoreboard *sb)
{
	if (sb != NULL)
		munmap(sb, sizeof(*sb));
}

const char *
sb_state_name(enum sb_state s)
{
	static const char *const names[SB_STATE_COUNT] = {
		"free", "idle", "reading", "processing", "writing", "streaming",
	};

	return (unsigned)s < SB_STATE_COUNT ? names[s] : "unknown";
}

void
sb_set_state(struct sb_slot *s, enum sb_state st)
{
	__atomic_store_n(&s->state, (int)st, __ATOMIC_RELEASE);
}

void
sb_begin(struct sb_slot *s, const char *method, const char *uri)
{
	snprintf(s->method, sizeof(s->method), "%s", method);
	log_escape_uri(s->uri, sizeof(s->uri), uri);
	s->request_ms = clock_ms();
	sb_set_state(s, SB_PROCESSING);
}

void
sb_end(struct scoreboard *sb, struct sb_slot *s, int status,
    enum err_kind kind, uint64_t bytes)
{
	uint64_t ms = (uint64_t)(clock_ms() - s->request_ms);
	unsigned b = 0;

	while (b < SB_BUCKETS && ms > sb_bucket_le[b])
		b++;
	__atomic_fetch_add(&sb->latency[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sb->latency_sum_ms, ms, __ATOMIC_RELAXED);
	if (status >= 100 && status < 600)
		__atomic_fetch_add(&sb->by_class[status / 100], 1,
		    __ATOMIC_RELAXED);
	if (kind != ERR_NONE && (unsigned)kind < ERR_KIND_COUNT)
		__atomic_fetch_add(&sb->errors[kind], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sb->bytes, bytes, __ATOMIC_RELAXED);
	s->requests++;
	s->bytes += bytes;
	sb_set_state(s, SB_IDLE);
}
