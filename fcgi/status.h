/*
 * status - the status page (JSON, or Prometheus text exposition with
 * ?format=prometheus) rendered from the scoreboard, and the health check.
 */
#ifndef MF_STATUS_H
#define MF_STATUS_H

#include <stdbool.h>

#include "config.h"
#include "live.h"
#include "scoreboard.h"
#include "sink.h"

/* Appends the page to m. */
void status_json(const struct scoreboard *sb, const struct config *cfg,
    const struct live *live, struct membuf *m);
void status_prometheus(const struct scoreboard *sb, const struct config *cfg,
    const struct live *live, struct membuf *m);

/* Whether addr is in the comma-separated allow list (NULL list: all). */
bool status_allowed(const char *allow, const char *addr);

#endif
