/* SPDX-License-Identifier: BSD-2-Clause */
/* A simulated NTP server: a stratum-1 clock ("GPS", precision -20) with its own offset and
 * frequency error against true time, that answers each mode-3 request with a mode-4 reply
 * built by ntk_pkt_encode (origin = the request's transmit timestamp, T2 = its clock when
 * the request arrived, T3 = T2 + proc_s). Options: silent between two times, leap bits set
 * before a leap second, kiss-o'-death RATE or DENY for a while. */
#ifndef NTK_SIMSRV_H
#define NTK_SIMSRV_H

#include <stddef.h>
#include <stdint.h>

/* Which kiss-o'-death the server sends in its KoD window. */
enum simsrv_kod {
    SIMSRV_KOD_NONE = 0, /* never */
    SIMSRV_KOD_RATE,     /* "RATE": slow down */
    SIMSRV_KOD_DENY,     /* "DENY": go away */
};

/* A server. Times are true seconds since the start of the run. Zero-initialised: a perfect
 * server, always reachable, no leap, no KoD. */
struct simsrv_cfg {
    double offset_s;       /* its clock minus true UTC at t = 0 */
    double freq_ppm;       /* its frequency error against true time, from t = 0 */
    double drift_from_s;   /* from this time on ... */
    double drift_ppm;      /* ... a further frequency error (a server that wanders off) */
    double unreach_from_s; /* requests arriving in [unreach_from_s, unreach_to_s) ... */
    double unreach_to_s;   /* ... get no answer (to <= from: always reachable) */
    int leap;              /* leap bits to send (+1 insert, -1 delete, 0 none) ... */
    double leap_from_s;    /* ... for requests arriving in [leap_from_s, leap_at_s) */
    double leap_at_s;      /* the leap second (true time of the UTC midnight) */
    enum simsrv_kod kod;   /* the kiss sent to requests arriving in ... */
    double kod_from_s;     /* ... [kod_from_s, kod_to_s) */
    double kod_to_s;       /* (kod_to_s <= kod_from_s: until the end) */
    double proc_s;         /* T3 - T2 on its clock (0: 5 us) */
};

/* What the server did with a request. */
enum simsrv_answer {
    SIMSRV_SILENT = 0, /* no reply (unreachable, not a client request) */
    SIMSRV_TIME,       /* a normal mode-4 reply */
    SIMSRV_KISS,       /* a kiss-o'-death */
};

/* The server's counters. */
struct simsrv_stats {
    unsigned requests; /* datagrams that reached it */
    unsigned replies;  /* normal replies */
    unsigned kisses;   /* kiss-o'-death replies */
    unsigned silent;   /* requests not answered */
};

/* A server. */
struct simsrv {
    struct simsrv_cfg cfg;
    struct simsrv_stats st;
};

/* Sets up a server from cfg. */
void simsrv_init(struct simsrv *s, const struct simsrv_cfg *cfg);

/* Its clock minus true UTC at true time t_s. */
double simsrv_offset_s(const struct simsrv *s, double t_s);

/* Answers the datagram req[0..len) that arrived at true time t_ns (ns since the start of the
 * run), when true UTC was utc_ns (Unix ns). Writes the reply to out[0..cap) and its length to
 * *out_len when it answers; returns what it did. */
enum simsrv_answer simsrv_answer(struct simsrv *s, int64_t t_ns, int64_t utc_ns,
                                 const uint8_t *req, size_t len, uint8_t *out, size_t cap,
                                 size_t *out_len);

/* Its reply is sent this long (true seconds) after the request arrived. */
double simsrv_proc_s(const struct simsrv *s);

#endif /* NTK_SIMSRV_H */
