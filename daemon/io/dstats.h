/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's statistics files (`statsdir`, `statistics`, `filegen`): loopstats after every clock
 * update and peerstats after every accepted sample, in NTPsec's formats (stats.h), so its
 * ntpviz reads them. */
#ifndef NTK_DSTATS_H
#define NTK_DSTATS_H

#include <stdint.h>

#include "conf.h"
#include "engine.h"
#include "stats.h"

struct dstats {
    struct stats_gen loop; /* loopstats */
    struct stats_gen peer; /* peerstats */
    int64_t start_mono_ns; /* for the "age" rotation */
};

/* Sets up the files the configuration enables (statistics loopstats peerstats, or filegen
 * ... enable) under statsdir (or -s dir). Nothing is opened before the first line. */
void dstats_init(struct dstats *s, const struct conf *c, const char *statsdir_opt);

/* Writes the line an ENG_EV_CLOCK_UPDATE or ENG_EV_PEER_UPDATE event calls for, from the
 * engine's report. Failures are logged once per file. */
void dstats_event(struct dstats *s, const struct eng *e, const struct eng_action *ev);

/* Closes the files. */
void dstats_close(struct dstats *s);

#endif /* NTK_DSTATS_H */
