/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq -j: every report as one JSON object per line (schema NQ_JSON_SCHEMA): values typed,
 * units in the key names (_s seconds, _ppm), converted by ctlvars.h, never rounded. */
#ifndef NTK_NQ_JSON_H
#define NTK_NQ_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "nq_cmd.h"

/* The "schema" value of every object; the number changes when a key changes meaning. */
#define NQ_JSON_SCHEMA "ntpkit-ntpq/1"

/* readvar, clockvar, readlist, mreadvar: {"vars": {...}} with the status decoded. */
void nq_json_vars(struct nq *q, const char *cmd, uint16_t associd, uint16_t status, int type,
                  const struct nq_vars *vs);

/* A statistics table (sysinfo, sysstats, ...): the table's variables. */
void nq_json_table(struct nq *q, const struct nq_stats_cmd *c, uint16_t associd,
                   uint16_t status, const struct nq_vars *vs);

/* associations: {"associations": [...]} from q's list. */
void nq_json_assoc(struct nq *q);

/* peers and variants: begin, one call per association, end (writes the object). */
void *nq_json_peers_begin(struct nq *q, enum nq_peers_mode m);
void nq_json_peers_add(struct nq *q, void *js, uint16_t status, const struct nq_vars *vs,
                       uint16_t associd);
void nq_json_peers_end(struct nq *q, void *js);

/* mrulist: {"now": ..., "entries": [...]} newest first. */
void nq_json_mru(struct nq *q, const struct nq_mru *e, size_t n, double now_s);

/* ifstats / reslist: {"entries": [...]} with the ".N" suffixes removed. */
void nq_json_ordlist(struct nq *q, const char *cmd, const struct nq_vars *vs, unsigned n);

/* Converts one variable into o under its unit-suffixed key (exposed for tests). */
void nq_json_put_var(void *o, const struct nq_var *v, double now_s);

#endif /* NTK_NQ_JSON_H */
