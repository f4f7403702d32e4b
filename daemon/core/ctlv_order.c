/* SPDX-License-Identifier: BSD-2-Clause */
/* The order of a mode-6 answer (ctlv_order.h): NTPsec 1.2.2's variable tables. */
#include "ctlv_order.h"

#include <stdbool.h>
#include <string.h>

#include "ntk/ctlvars.h"

#include "poison.h"

/* The names in the order NTPsec 1.2.2's ntpd answered them, asked two at a time; the names
 * it lacks (NTPsec HEAD's: release, io_pkt_reads, io_ref_reads, the nts_* beyond 1.2.2's
 * and every nts_*_r) next to their kin, each nts_* counter followed by its _r. */
/* clang-format off */
static const char *const sys_order[] = {
    "leap", "stratum", "precision", "rootdelay", "rootdisp", "refid", "reftime", "tc", "peer",
    "offset", "frequency", "sys_jitter", "clk_jitter", "clock", "processor", "system",
    "version", "release", "clk_wander", "sys_var_list", "tai", "leapsec", "expire", "mintc",
    "mru_enabled", "mru_depth", "mru_deepest", "mru_mindepth", "mru_maxage", "mru_minage",
    "mru_maxdepth", "mru_mem", "mru_maxmem", "ss_uptime", "ss_reset", "ss_received",
    "ss_thisver", "ss_oldver", "ss_badformat", "ss_badauth", "ss_declined", "ss_restricted",
    "ss_limited", "ss_kodsent", "ss_processed", "peeradr", "peermode", "authdelay",
    "authkeys", "authfreek", "authklookups", "authknotfound", "authencrypts",
    "authdigestencrypts", "authcmacencrypts", "authdecrypts", "authreset", "koffset", "kfreq",
    "kmaxerr", "kesterr", "kstflags", "ktimeconst", "kprecis", "kfreqtol", "kppsfreq",
    "kppsstab", "kppsjitter", "kppscalibdur", "kppscalibs", "kppscaliberrs", "kppsjitexc",
    "kppsstbexc", "iostats_reset", "total_rbuf", "free_rbuf", "used_rbuf", "rbuf_lowater",
    "io_dropped", "io_ignored", "io_received", "io_sent", "io_sendfailed", "io_wakeups",
    "io_goodwakeups", "io_pkt_reads", "io_ref_reads", "timerstats_reset", "timer_overruns",
    "timer_xmts", "mru_exists", "mru_new", "mru_recycleold", "mru_recyclefull", "mru_none",
    "mru_oldest_age", "ss_numctlreq", "rootdist", "authdigestdecrypts", "authdigestfails",
    "authcmacdecrypts", "authcmacfails", "lockclock", "mru_hashslots", "ss_reset_r",
    "ss_received_r", "ss_thisver_r", "ss_oldver_r", "ss_badformat_r", "ss_badauth_r",
    "ss_declined_r", "ss_restricted_r", "ss_limited_r", "ss_kodsent_r", "ss_processed_r",
    "ss_ver1", "ss_ver1_r", "ss_ver1client", "ss_ver1client_r", "ss_ver1zero",
    "ss_ver1zero_r", "ss_ver1symm", "ss_ver1symm_r", "nts_client_send", "nts_client_send_r",
    "nts_client_recv_good", "nts_client_recv_good_r", "nts_client_recv_bad",
    "nts_client_recv_bad_r", "nts_server_send", "nts_server_send_r", "nts_server_recv_good",
    "nts_server_recv_good_r", "nts_server_recv_bad", "nts_server_recv_bad_r",
    "nts_cookie_make", "nts_cookie_make_r", "nts_cookie_not_server",
    "nts_cookie_not_server_r", "nts_cookie_decode_total", "nts_cookie_decode_total_r",
    "nts_cookie_decode_current", "nts_cookie_decode_current_r", "nts_cookie_decode",
    "nts_cookie_decode_r", "nts_cookie_decode_old", "nts_cookie_decode_old_r",
    "nts_cookie_decode_old2", "nts_cookie_decode_old2_r", "nts_cookie_decode_older",
    "nts_cookie_decode_older_r", "nts_cookie_decode_too_old", "nts_cookie_decode_too_old_r",
    "nts_cookie_decode_error", "nts_cookie_decode_error_r", "nts_ke_serves_good",
    "nts_ke_serves_good_r", "nts_ke_serves_good_wall", "nts_ke_serves_good_wall_r",
    "nts_ke_serves_good_cpu", "nts_ke_serves_good_cpu_r", "nts_ke_serves_nossl",
    "nts_ke_serves_nossl_r", "nts_ke_serves_nossl_wall", "nts_ke_serves_nossl_wall_r",
    "nts_ke_serves_nossl_cpu", "nts_ke_serves_nossl_cpu_r", "nts_ke_serves_bad",
    "nts_ke_serves_bad_r", "nts_ke_serves_bad_wall", "nts_ke_serves_bad_wall_r",
    "nts_ke_serves_bad_cpu", "nts_ke_serves_bad_cpu_r", "nts_ke_probes_good",
    "nts_ke_probes_good_r", "nts_ke_probes_bad", "nts_ke_probes_bad_r",
};
static const char *const peer_order[] = {
    "config", "authenable", "authentic", "srcadr", "srcport", "dstadr", "dstport", "leap",
    "hmode", "stratum", "ppoll", "hpoll", "precision", "rootdelay", "rootdisp", "refid",
    "reftime", "org", "rec", "xmt", "reach", "unreach", "timer", "delay", "offset", "jitter",
    "dispersion", "keyid", "filtdelay", "filtoffset", "pmode", "received", "sent", "filtdisp",
    "flash", "peer_var_list", "headway", "srchost", "timerec", "timereach", "badauth",
    "bogusorg", "oldpkt", "seldisp", "selbroken", "candidate", "ntscookies",
};
/* clang-format on */

/* The rank of n in order[count], or count when it is not there. */
static size_t rank_in(struct ntk_span n, const char *const *order, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(order[i]) == n.len && memcmp(order[i], n.p, n.len) == 0)
            return i;
    return count;
}

static bool listed(const struct ctlv_wanted *w, size_t n, struct ntk_span name)
{
    for (size_t j = 0; j < n; j++)
        if (w[j].name.len == name.len && memcmp(w[j].name.p, name.p, name.len) == 0)
            return true;
    return false;
}

size_t ctlv_answer_order(const char *names, size_t len, enum ctlv_table t,
                         struct ctlv_wanted *out, size_t cap)
{
    const char *const *order = t == CTLV_SYS_TABLE ? sys_order : peer_order;
    size_t count = t == CTLV_SYS_TABLE ? sizeof sys_order / sizeof sys_order[0]
                                       : sizeof peer_order / sizeof peer_order[0];
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    size_t n = 0;
    ntk_cvar_init(&it, names, len);
    while (n < cap && ntk_cvar_next(&it, &item) == 1) {
        if (listed(out, n, item.name))
            continue;
        size_t r = rank_in(item.name, order, count);
        struct ctlv_wanted x = {item.name, r < count ? r : count + n};
        size_t k = n++;
        for (; k > 0 && out[k - 1].rank > x.rank; k--) /* insertion: stable, lists short */
            out[k] = out[k - 1];
        out[k] = x;
    }
    return n;
}
