/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd in the foreground: a status line on the log and NTPsec's peers table on stdout. */
#include "daemon_internal.h"

#include <stdio.h>

#include "log.h"
#include "ntk/refid.h"
#include "ntk/sb.h"

#include "poison.h"

/* How often a foreground daemon logs a status line. */
#define STATUS_INTERVAL_S 16

/* One association as a row of NTPsec's `ntpq -p` (remote refid st t when poll reach delay
 * offset jitter, in ms), for the foreground status. */
static void print_peer(const struct snap_assoc *a, int64_t now_mono_ns)
{
    char remote[NTK_ADDRSTR_MAX], refid[NTK_REFID_STRMAX];
    struct ntk_addr host = a->addr;
    host.port = 0;
    ntk_addr_format(&host, remote);
    if (a->refclock || a->pool_line) /* NTPsec: "SHM(0)" type l, "pool.test" type p */
        snprintf(remote, sizeof remote, "%s", a->name);
    struct ntk_sb sb;
    ntk_sb_init(&sb, refid, sizeof refid);
    ntk_refid_format(a->refid, a->stratum, NTK_REFID_FMT_PEERS, &sb);
    long when =
        a->last_rx_mono_ns ? (long)((now_mono_ns - a->last_rx_mono_ns) / 1000000000LL) : -1;
    char w[16];
    ntk_sb_init(&sb, w, sizeof w);
    if (when < 0)
        ntk_sb_putc(&sb, '-');
    else
        ntk_sb_printf(&sb, "%ld", when);
    char ms[3][16];
    const double v[3] = {a->delay_s * 1e3, a->offset_s * 1e3, a->jitter_s * 1e3};
    for (int i = 0; i < 3; i++) {
        int dec = ntk_fit8_decimals(v[i], 4); /* NTPsec's ntpq -p: f8dot4 */
        snprintf(ms[i], sizeof ms[i], "%8.*f", dec < 0 ? 0 : dec, v[i]);
    }
    char type = a->refclock ? 'l' : a->pool_line ? 'p' : 'u';
    printf("%c%-15.15s %-15.15s %2u %c %4s %4d %4o %s %s %s\n", a->tally, remote, refid,
           (unsigned)a->stratum, type, ntk_sb_str(&sb), 1 << a->hpoll_log2, (unsigned)a->reach,
           ms[0], ms[1], ms[2]);
}

/* The foreground's live status: a summary line on the log and, on stdout, the peers table. */
void dstatus_on_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    struct snap_system s;
    static struct snap_assoc as[ENG_SNAP_MAX];
    size_t n = eng_snap(d->eng, now_mono_ns, &s, NULL, as, ENG_SNAP_MAX);
    /* The poll shown is the system peer's own (clamped to its maxpoll). */
    for (size_t i = 0; i < n && i < ENG_SNAP_MAX; i++)
        if (as[i].id == s.sys_peer)
            s.poll_log2 = as[i].hpoll_log2;
    if (s.sys_peer == 0)
        log_msg(LOG_INFO, "status: not synchronised (stratum %u)", (unsigned)s.stratum);
    else
        log_msg(LOG_INFO,
                "status: synchronised to association %u, stratum %u, offset %+.6f s, "
                "frequency %+.3f ppm, poll %d s%s",
                (unsigned)s.sys_peer, (unsigned)s.stratum, s.offset_s, s.freq_ppm,
                1 << s.poll_log2, s.observe ? " (observe: the clock is not touched)" : "");
    printf(
        "     remote           refid      st t when poll reach   delay   offset   jitter\n"
        "===============================================================================\n");
    for (size_t i = 0; i < n && i < ENG_SNAP_MAX; i++)
        print_peer(&as[i], now_mono_ns);
    fflush(stdout);
    d->status_timer = loop_timer(d->loop, now_mono_ns + STATUS_INTERVAL_S * 1000000000LL,
                                 dstatus_on_timer, d);
}
