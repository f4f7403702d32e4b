/* SPDX-License-Identifier: BSD-2-Clause */
/* The rows of ntpq's statistics commands: variable, legend and format, as NTPsec 1.2.2 has
 * them. */
#include <string.h>

#include "nq.h"

#include "poison.h"

static const struct nq_stat pstats_rows[] = {
    {"srcadr", "remote host:          ", NQ_F_ADD},
    {"dstadr", "local address:        ", NQ_F_ADD},
    {"timerec", "time last received:   ", NQ_F_UPTIME},
    {"timer", "time until next send: ", NQ_F_UPTIME},
    {"timereach", "reachability change:  ", NQ_F_INT},
    {"sent", "packets sent:         ", NQ_F_INT},
    {"received", "packets received:     ", NQ_F_INT},
    {"badauth", "bad authentication:   ", NQ_F_INT},
    {"bogusorg", "bogus origin:         ", NQ_F_INT},
    {"oldpkt", "duplicate:            ", NQ_F_INT},
    {"seldisp", "bad dispersion:       ", NQ_F_INT},
    {"selbroken", "bad reference time:   ", NQ_F_INT},
    {"candidate", "candidate order:      ", NQ_F_INT},
    {"ntscookies", "count of nts cookies: ", NQ_F_INT},
};

static const struct nq_stat sysinfo_rows[] = {
    {"peeradr", "system peer:      ", NQ_F_ADP},
    {"peermode", "system peer mode: ", NQ_F_MODE},
    {"leap", "leap indicator:   ", NQ_F_2BIT},
    {"stratum", "stratum:          ", NQ_F_INT},
    {"precision", "log2 precision:   ", NQ_F_INT},
    {"rootdelay", "root delay:       ", NQ_F_FLOAT},
    {"rootdisp", "root dispersion:  ", NQ_F_FLOAT},
    {"rootdist", "root distance     ", NQ_F_FLOAT},
    {"refid", "reference ID:     ", NQ_F_STR},
    {"reftime", "reference time:   ", NQ_F_LFP},
    {"sys_jitter", "system jitter:    ", NQ_F_FLOAT},
    {"clk_jitter", "clock jitter:     ", NQ_F_FLOAT},
    {"clk_wander", "clock wander:     ", NQ_F_FLOAT},
    {"authdelay", "symm. auth. delay:", NQ_F_FLOAT},
};

static const struct nq_stat kerninfo_rows[] = {
    {"koffset", "pll offset:          ", NQ_F_FLOAT},
    {"kfreq", "pll frequency:       ", NQ_F_FLOAT},
    {"kmaxerr", "maximum error:       ", NQ_F_FLOAT},
    {"kesterr", "estimated error:     ", NQ_F_FLOAT},
    {"kstflags", "kernel status:       ", NQ_F_STR},
    {"ktimeconst", "pll time constant:   ", NQ_F_INT},
    {"kprecis", "precision:           ", NQ_F_FLOAT},
    {"kfreqtol", "frequency tolerance: ", NQ_F_INT},
    {"kppsfreq", "pps frequency:       ", NQ_F_INT},
    {"kppsstab", "pps stability:       ", NQ_F_INT},
    {"kppsjitter", "pps jitter:          ", NQ_F_INT},
    {"kppscalibdur", "calibration interval ", NQ_F_INT},
    {"kppscalibs", "calibration cycles:  ", NQ_F_INT},
    {"kppsjitexc", "jitter exceeded:     ", NQ_F_INT},
    {"kppsstbexc", "stability exceeded:  ", NQ_F_INT},
    {"kppscaliberrs", "calibration errors:  ", NQ_F_INT},
};

static const struct nq_stat sysstats_rows[] = {
    {"ss_uptime", "uptime:               ", NQ_F_UPTIME},
    {"ss_numctlreq", "control requests:     ", NQ_F_INT},
};

static const struct nq_stat monstats_rows[] = {
    {"mru_enabled", "enabled:              ", NQ_F_INT},
    {"mru_hashslots", "hash slots in use:    ", NQ_F_INT},
    {"mru_depth", "addresses in use:     ", NQ_F_INT},
    {"mru_deepest", "peak addresses:       ", NQ_F_INT},
    {"mru_maxdepth", "maximum addresses:    ", NQ_F_INT},
    {"mru_mindepth", "reclaim above count:  ", NQ_F_INT},
    {"mru_maxage", "reclaim maxage:       ", NQ_F_UPTIME},
    {"mru_minage", "reclaim minage:       ", NQ_F_UPTIME},
    {"mru_mem", "kilobytes:            ", NQ_F_INT},
    {"mru_maxmem", "maximum kilobytes:    ", NQ_F_INT},
    {"mru_exists", "alloc: exists:        ", NQ_F_INT},
    {"mru_new", "alloc: new:           ", NQ_F_INT},
    {"mru_recycleold", "alloc: recycle old:   ", NQ_F_INT},
    {"mru_recyclefull", "alloc: recycle full:  ", NQ_F_INT},
    {"mru_none", "alloc: none:          ", NQ_F_INT},
    {"mru_oldest_age", "age of oldest slot:   ", NQ_F_UPTIME},
};

static const struct nq_stat authinfo_rows[] = {
    {"authreset", "time since reset:    ", NQ_F_UPTIME},
    {"authkeys", "stored keys:         ", NQ_F_INT},
    {"authfreek", "free keys:           ", NQ_F_INT},
    {"authklookups", "key lookups:         ", NQ_F_INT},
    {"authknotfound", "keys not found:      ", NQ_F_INT},
    {"authencrypts", "encryptions:         ", NQ_F_PACKETS},
    {"authdigestencrypts", "digest encryptions:  ", NQ_F_PACKETS},
    {"authcmacencrypts", "CMAC encryptions:    ", NQ_F_PACKETS},
    {"authdecrypts", "decryptions:         ", NQ_F_PACKETS},
    {"authdigestdecrypts", "digest decryptions:  ", NQ_F_PACKETS},
    {"authdigestfails", "digest failures:     ", NQ_F_PACKETS},
    {"authcmacdecrypts", "CMAC decryptions:    ", NQ_F_PACKETS},
    {"authcmacfails", "CMAC failures:       ", NQ_F_PACKETS},
    {"authkuncached", "uncached keys:       ", NQ_F_INT},
    {"authkexpired", "expired keys:        ", NQ_F_INT},
};

static const struct nq_stat ntsinfo_rows[] = {
    {"nts_client_send", "NTS client sends:          ", NQ_F_UINT},
    {"nts_client_recv_good", "NTS client recvs good:     ", NQ_F_UINT},
    {"nts_client_recv_bad", "NTS client recvs w error:  ", NQ_F_UINT},
    {"nts_server_recv_good", "NTS server recvs good:     ", NQ_F_UINT},
    {"nts_server_recv_bad", "NTS server recvs w error:  ", NQ_F_UINT},
    {"nts_server_send", "NTS server sends:          ", NQ_F_UINT},
    {"nts_cookie_make", "NTS make cookies:          ", NQ_F_UINT},
    {"nts_cookie_decode", "NTS decode cookies:        ", NQ_F_UINT},
    {"nts_cookie_decode_old", "NTS decode cookies old:    ", NQ_F_UINT},
    {"nts_cookie_decode_old2", "NTS decode cookies old2:   ", NQ_F_UINT},
    {"nts_cookie_decode_older", "NTS decode cookies older:  ", NQ_F_UINT},
    {"nts_cookie_decode_too_old", "NTS decode cookies too old:", NQ_F_UINT},
    {"nts_cookie_decode_error", "NTS decode cookies error:  ", NQ_F_UINT},
    {"nts_ke_probes_good", "NTS KE client probes good: ", NQ_F_UINT},
    {"nts_ke_probes_bad", "NTS KE client probes bad:  ", NQ_F_UINT},
    {"nts_ke_serves_good", "NTS KE serves good:        ", NQ_F_UINT},
    {"nts_ke_serves_bad", "NTS KE serves bad:         ", NQ_F_UINT},
};

static const struct nq_stat iostats_rows[] = {
    {"iostats_reset", "time since reset:     ", NQ_F_UPTIME},
    {"total_rbuf", "receive buffers:      ", NQ_F_INT},
    {"free_rbuf", "free receive buffers: ", NQ_F_INT},
    {"used_rbuf", "used receive buffers: ", NQ_F_INT},
    {"rbuf_lowater", "low water refills:    ", NQ_F_INT},
    {"io_dropped", "dropped packets:      ", NQ_F_PACKETS},
    {"io_ignored", "ignored packets:      ", NQ_F_PACKETS},
    {"io_received", "received packets:     ", NQ_F_PACKETS},
    {"io_sent", "packets sent:         ", NQ_F_PACKETS},
    {"io_sendfailed", "packet send failures: ", NQ_F_PACKETS},
    {"io_wakeups", "input wakeups:        ", NQ_F_INT},
    {"io_goodwakeups", "useful input wakeups: ", NQ_F_INT},
};

static const struct nq_stat timerstats_rows[] = {
    {"timerstats_reset", "time since reset:  ", NQ_F_UPTIME},
    {"timer_overruns", "timer overruns:    ", NQ_F_INT},
    {"timer_xmts", "calls to transmit: ", NQ_F_INT},
};

static const struct nq_stat sysstats2_rows[] = {
    {"ss_reset", "sysstats reset:       ", NQ_F_UPTIME},
    {"ss_received", "packets received:     ", NQ_F_PACKETS},
    {"ss_thisver", "current version:      ", NQ_F_PACKETS},
    {"ss_oldver", "older version:        ", NQ_F_PACKETS},
    {"ss_ver1", "NTPv1 total:          ", NQ_F_PACKETS},
    {"ss_ver1client", "NTPv1 clients:        ", NQ_F_PACKETS},
    {"ss_ver1zero", "NTPv1 mode0:          ", NQ_F_PACKETS},
    {"ss_ver1symm", "NTPv1 symm act:       ", NQ_F_PACKETS},
    {"ss_badformat", "bad length or format: ", NQ_F_PACKETS},
    {"ss_badauth", "authentication failed:", NQ_F_PACKETS},
    {"ss_declined", "declined:             ", NQ_F_PACKETS},
    {"ss_restricted", "restricted:           ", NQ_F_PACKETS},
    {"ss_limited", "rate limited:         ", NQ_F_PACKETS},
    {"ss_kodsent", "KoD responses:        ", NQ_F_PACKETS},
    {"ss_processed", "processed for time:   ", NQ_F_PACKETS},
};

static const struct nq_stats_cmd tables[] = {
    {"pstats", pstats_rows, sizeof pstats_rows / sizeof pstats_rows[0], true, false},
    {"sysinfo", sysinfo_rows, sizeof sysinfo_rows / sizeof sysinfo_rows[0], true, false},
    {"kerninfo", kerninfo_rows, sizeof kerninfo_rows / sizeof kerninfo_rows[0], true, false},
    {"sysstats", sysstats_rows, sizeof sysstats_rows / sizeof sysstats_rows[0], false, false},
    {"sysstats2", sysstats2_rows, sizeof sysstats2_rows / sizeof sysstats2_rows[0], false,
     true},
    {"monstats", monstats_rows, sizeof monstats_rows / sizeof monstats_rows[0], false, false},
    {"authinfo", authinfo_rows, sizeof authinfo_rows / sizeof authinfo_rows[0], false, false},
    {"ntsinfo", ntsinfo_rows, sizeof ntsinfo_rows / sizeof ntsinfo_rows[0], false, false},
    {"iostats", iostats_rows, sizeof iostats_rows / sizeof iostats_rows[0], false, false},
    {"timerstats", timerstats_rows, sizeof timerstats_rows / sizeof timerstats_rows[0], false,
     false},
};

const struct nq_stats_cmd *nq_stats_find(const char *cmd)
{
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (strcmp(tables[i].cmd, cmd) == 0)
            return &tables[i];
    return NULL;
}
