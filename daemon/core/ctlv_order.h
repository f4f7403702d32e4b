/* SPDX-License-Identifier: BSD-2-Clause */
/* The order of a mode-6 answer to a list of variable names. NTPsec answers a READVAR list in
 * the order of its own variable table, each name once, whatever order the list asked in
 * (read_sysvars and read_peervars mark the codes wanted, then walk the table), user
 * variables (setvar) after the table's: `rv 0 stratum,refid,leap` gives leap first. ctlv
 * answers the same way. Pure. */
#ifndef NTK_CTLV_ORDER_H
#define NTK_CTLV_ORDER_H

#include <stddef.h>

#include "ntk/tok.h"

/* Whose table. */
enum ctlv_table {
    CTLV_SYS_TABLE,  /* system variables (association 0) */
    CTLV_PEER_TABLE, /* an association's */
};

/* One name of a list and its place in the answer. */
struct ctlv_wanted {
    struct ntk_span name; /* in the list's text */
    size_t rank;          /* its place in the table, or after it for a name the table lacks */
};

/* More than a 468-byte request can hold (at most 234 one-letter names). */
#define CTLV_WANTED_MAX 256

/* The names of the list names[0..len) (NTPsec's "a,b=1,c" form) in the table's order, each
 * once, names the table lacks after those in the list's order, into out[0..cap). Returns
 * how many; a list of more than cap names is cut (no request holds that many). */
size_t ctlv_answer_order(const char *names, size_t len, enum ctlv_table t,
                         struct ctlv_wanted *out, size_t cap);

#endif /* NTK_CTLV_ORDER_H */
