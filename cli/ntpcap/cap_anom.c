/* SPDX-License-Identifier: BSD-2-Clause */
/* Anomaly codes and their reporting: one line per occurrence up to a burst per flow and
 * code, then counts, so a flood stays readable. */
#include <stdarg.h>
#include <string.h>

#include "cap_anom.h"

#include "ntk/sb.h"

#include "poison.h"

static const struct cap_anom_info table[CAP_A_COUNT + 1] = {
    [CAP_A_MODE7] = {"mode7", CAP_SEV_WARN, "a mode-7 (NTP Classic private, ntpdc) packet"},
    [CAP_A_MONLIST] = {"mode7_monlist", CAP_SEV_CRIT,
                       "a mode-7 MON_GETLIST(_1) request or response: the monlist amplifier "
                       "(CVE-2013-5211)"},
    [CAP_A_MODE6_OFFNET] = {"mode6_offnet", CAP_SEV_WARN,
                            "a mode-6 control request from a public (off-net) address"},
    [CAP_A_MRU_NO_NONCE] = {"mode6_mru_no_nonce", CAP_SEV_WARN,
                            "a mode-6 READ_MRU request without a nonce"},
    [CAP_A_AMPLIFICATION] = {"amplification", CAP_SEV_CRIT,
                             "a flow's server-to-client bytes exceed its client-to-server "
                             "bytes by more than the threshold"},
    [CAP_A_RESP_UNMATCHED] = {"response_unmatched", CAP_SEV_WARN,
                              "a response that answers no request in the capture"},
    [CAP_A_REFLECTION] = {"reflection", CAP_SEV_CRIT,
                          "many responses from one server to one client that sent no "
                          "request: a reflection victim"},
    [CAP_A_KOD] = {"kod", CAP_SEV_INFO, "a kiss-o'-death answering a request"},
    [CAP_A_KOD_SPOOFED] = {"kod_spoofed", CAP_SEV_WARN,
                           "a kiss-o'-death whose origin matches no pending request "
                           "(spoofed or off-path)"},
    [CAP_A_ORIGIN_ZERO] = {"origin_zero", CAP_SEV_WARN,
                           "a server response with a zero origin timestamp"},
    [CAP_A_ORIGIN_BOGUS] = {"origin_bogus", CAP_SEV_WARN,
                            "a server response whose origin matches none of the client's "
                            "pending requests"},
    [CAP_A_T3_BEFORE_T2] = {"t3_before_t2", CAP_SEV_WARN,
                            "a response transmitted before it was received (T3 < T2)"},
    [CAP_A_SERVER_TIME_FAR] = {"server_time_far", CAP_SEV_WARN,
                               "a server's transmit time far from the capture time "
                               "(time-shift attack or broken server)"},
    [CAP_A_SERVER_UNSYNC] = {"server_unsync", CAP_SEV_WARN,
                             "a server sending LI=3 or stratum 16 (unsynchronised)"},
    [CAP_A_STRATUM_FLAP] = {"stratum_flap", CAP_SEV_WARN,
                            "a server's stratum changing again and again"},
    [CAP_A_REFID_FLAP] = {"refid_flap", CAP_SEV_WARN,
                          "a server's refid changing again and again"},
    [CAP_A_REFID_LOOP] = {"refid_loop", CAP_SEV_WARN,
                          "a server's refid is the client's own address (a timing loop)"},
    [CAP_A_OLD_VERSION] = {"old_version", CAP_SEV_INFO, "an NTPv1-3 client"},
    [CAP_A_UNAUTH_SYMMETRIC] = {"unauth_symmetric", CAP_SEV_WARN,
                                "symmetric mode (1/2) without MAC or NTS"},
    [CAP_A_UNAUTH_BROADCAST] = {"unauth_broadcast", CAP_SEV_WARN,
                                "broadcast mode (5) without MAC or NTS"},
    [CAP_A_NTS_DOWNGRADE] = {"nts_downgrade", CAP_SEV_CRIT,
                             "an NTS request answered without NTS (downgrade)"},
    [CAP_A_EF_MALFORMED] = {"ef_malformed", CAP_SEV_WARN,
                            "extension fields that break RFC 7822's layout"},
    [CAP_A_CLIENT_PORT_123] = {"client_port_123", CAP_SEV_INFO,
                               "a client request from source port 123 (old ntpd behaviour)"},
    [CAP_A_RESP_DUPLICATE] =
        {"response_duplicate", CAP_SEV_WARN,
         "a server packet with the transmit timestamp of the previous one "
         "(duplicate or replay)"},
    [CAP_A_COUNT] = {NULL, CAP_SEV_INFO, NULL},
};

const struct cap_anom_info *cap_anom_table(void)
{
    return table;
}

static void report(const struct cap_anom_out *o, enum cap_anom_id id, uint64_t frame,
                   const struct ntk_addr *src, const struct ntk_addr *dst, const char *detail)
{
    if (!o->sink->anomaly) {
        return;
    }
    struct cap_anom a;
    memset(&a, 0, sizeof a);
    a.code = table[id].code;
    a.sev = table[id].sev;
    a.frame = frame;
    a.src = *src;
    a.dst = *dst;
    size_t n = strlen(detail);
    n = n < sizeof a.detail - 1 ? n : sizeof a.detail - 1;
    memcpy(a.detail, detail, n);
    o->sink->anomaly(o->sink->ctx, &a);
}

void cap_anom_vemit(const struct cap_anom_out *o, struct cap_anom_lim *lim,
                    enum cap_anom_id id, uint64_t frame, const struct ntk_addr *src,
                    const struct ntk_addr *dst, const char *fmt, va_list ap)
{
    o->st->anomalies[table[id].sev]++;
    if (lim && lim->seen[id]++ >= CAP_ANOM_BURST) {
        lim->suppressed[id]++;
        return;
    }
    char buf[192];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_sb_vprintf(&sb, fmt, ap);
    report(o, id, frame, src, dst, ntk_sb_str(&sb));
}

void cap_anom_emit(const struct cap_anom_out *o, struct cap_anom_lim *lim, enum cap_anom_id id,
                   uint64_t frame, const struct ntk_addr *src, const struct ntk_addr *dst,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cap_anom_vemit(o, lim, id, frame, src, dst, fmt, ap);
    va_end(ap);
}

void cap_anom_flush(const struct cap_anom_out *o, struct cap_anom_lim *lim,
                    const struct ntk_addr *client, const struct ntk_addr *server)
{
    for (int i = 0; i < CAP_A_COUNT; i++) {
        if (lim->suppressed[i] == 0) {
            continue;
        }
        char buf[192];
        struct ntk_sb sb;
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_sb_printf(&sb,
                      "%u more occurrences in this flow not reported one by one (%u in all)",
                      (unsigned)lim->suppressed[i], (unsigned)lim->seen[i]);
        report(o, (enum cap_anom_id)i, 0, client, server, ntk_sb_str(&sb));
        lim->suppressed[i] = 0;
    }
}

/* An IPv4 address outside loopback, RFC 1918, link-local, CGNAT (RFC 6598) and 0/8. */
static bool offnet_v4(const uint8_t ip[4])
{
    return !(ip[0] == 127 || ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) ||
             (ip[0] == 192 && ip[1] == 168) || (ip[0] == 169 && ip[1] == 254) ||
             (ip[0] == 100 && (ip[1] & 0xc0) == 64) || ip[0] == 0);
}

bool cap_anom_offnet(const struct ntk_addr *a)
{
    const uint8_t *ip = a->ip;
    if (a->family == NTK_ADDR_V4) {
        return offnet_v4(ip);
    }
    if (a->family == NTK_ADDR_V6) {
        static const uint8_t loop[16] = {[15] = 1};
        if (memcmp(ip, loop, 16) == 0 || (ip[0] & 0xfe) == 0xfc ||
            (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)) {
            return false;
        }
        static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
        if (memcmp(ip, mapped, 12) == 0) {
            return offnet_v4(ip + 12);
        }
        return true;
    }
    return false;
}
