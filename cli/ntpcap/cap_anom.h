/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's anomaly checks (ecosystem.md §3.4): the list of codes with their severities, the
 * per-packet, per-exchange and per-flow checks, and the per-flow rate limit that turns a
 * flood into counts. */
#ifndef NTK_CAP_ANOM_H
#define NTK_CAP_ANOM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "cap.h"

/* Every anomaly; the index into cap_anom_codes(). Never reorder without the table. */
enum cap_anom_id {
    CAP_A_MODE7 = 0,        /* mode 7 seen (info unless monlist) */
    CAP_A_MONLIST,          /* mode 7 MON_GETLIST / MON_GETLIST_1 */
    CAP_A_MODE6_OFFNET,     /* mode 6 request from a public address */
    CAP_A_MRU_NO_NONCE,     /* READ_MRU request without a nonce */
    CAP_A_AMPLIFICATION,    /* flow bytes s2c / c2s above the threshold */
    CAP_A_RESP_UNMATCHED,   /* a response that answers no request seen */
    CAP_A_REFLECTION,       /* many unmatched responses, no request: a reflection victim */
    CAP_A_KOD,              /* a kiss-o'-death answering a request */
    CAP_A_KOD_SPOOFED,      /* a kiss-o'-death answering no request */
    CAP_A_ORIGIN_ZERO,      /* a server response with a zero origin timestamp */
    CAP_A_ORIGIN_BOGUS,     /* a server response whose origin matches no pending request */
    CAP_A_T3_BEFORE_T2,     /* transmit timestamp before receive timestamp */
    CAP_A_SERVER_TIME_FAR,  /* server transmit time far from the capture time */
    CAP_A_SERVER_UNSYNC,    /* LI=3 or stratum 16 from a server */
    CAP_A_STRATUM_FLAP,     /* stratum changed often in one flow */
    CAP_A_REFID_FLAP,       /* refid changed often in one flow */
    CAP_A_REFID_LOOP,       /* the server's refid is the client's address */
    CAP_A_OLD_VERSION,      /* an NTPv1-3 client */
    CAP_A_UNAUTH_SYMMETRIC, /* mode 1/2 without MAC or NTS */
    CAP_A_UNAUTH_BROADCAST, /* mode 5 without MAC or NTS */
    CAP_A_NTS_DOWNGRADE,    /* an NTS request answered without NTS */
    CAP_A_EF_MALFORMED,     /* extension fields that do not walk */
    CAP_A_CLIENT_PORT_123,  /* a client request from source port 123 */
    CAP_A_RESP_DUPLICATE,   /* the same response seen twice (replay) */
    CAP_A_COUNT,            /* number of codes */
};

/* Occurrences of one code per flow reported in full before the rest are only counted. */
#define CAP_ANOM_BURST 3

/* Unmatched responses, with no request at all, from one server to one client that make a
 * reflection (crit). */
#define CAP_ANOM_REFLECT_MIN 10

/* Stratum or refid changes in one flow that make flapping. */
#define CAP_ANOM_FLAP_MIN 3

/* Rate-limit state of one flow. */
struct cap_anom_lim {
    uint32_t seen[CAP_A_COUNT];       /* occurrences of each code */
    uint32_t suppressed[CAP_A_COUNT]; /* of those, not reported one by one */
};

/* Where reports go. */
struct cap_anom_out {
    const struct cap_sink *sink;
    struct cap_stats *st;
};

/* Reports anomaly id at frame (0 for a flow-level one) between src and dst, unless its
 * flow (lim, may be NULL: no limit) already reported CAP_ANOM_BURST of it; the detail is
 * printf-formatted. Every occurrence is counted in st->anomalies. */
void cap_anom_emit(const struct cap_anom_out *o, struct cap_anom_lim *lim, enum cap_anom_id id,
                   uint64_t frame, const struct ntk_addr *src, const struct ntk_addr *dst,
                   const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* The same with a va_list. */
void cap_anom_vemit(const struct cap_anom_out *o, struct cap_anom_lim *lim,
                    enum cap_anom_id id, uint64_t frame, const struct ntk_addr *src,
                    const struct ntk_addr *dst, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/* Reports one summary line per code whose occurrences were suppressed in lim (frame 0),
 * then clears those counts. */
void cap_anom_flush(const struct cap_anom_out *o, struct cap_anom_lim *lim,
                    const struct ntk_addr *client, const struct ntk_addr *server);

/* True for an address outside loopback, RFC 1918, CGNAT, link-local and ULA space. */
bool cap_anom_offnet(const struct ntk_addr *a);

/* The table behind cap_anom_codes(), CAP_A_COUNT entries then {NULL}. */
const struct cap_anom_info *cap_anom_table(void);

#endif /* NTK_CAP_ANOM_H */
