/*
 * status - the status page (JSON, or Prometheus text exposition with
 * ?format=prometheus) rendered from the scoreboard, and the health check.
 */
#ifndef MF_STATUS_H
#define MF_STATUS_H

#include <stdbool.h>

#include "proc/config.h"
#include "viewers/ring.h"
#include "proc/scoreboard.h"
#include "core/sink.h"

/* Appends the page to m. */
void status_json(const struct scoreboard *sb, const struct config *cfg,
    const struct live *live, struct membuf *m);
void status_prometheus(const struct scoreboard *sb, const struct config *cfg,
    const struct live *live, struct membuf *m);

/*
 * Whether addr (REMOTE_ADDR, NULL: unknown, refused) is in the
 * comma-separated allow list; with no list (NULL), whether it is loopback.
 */
bool status_allowed(const char *allow, const char *addr);

/* Whether addr is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool status_is_loopback(const char *addr);

#endif
