/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 2783 PPS edges (what PPS_FETCH returns) to a sample of the chosen edge, the kernel
 * hardpps binding flag3 asks for, free of system calls; and the drivers' names. */
#include <string.h>

#include "ntk/sb.h"
#include "refclock.h"

#include "poison.h"

void rc_pps_decode(const struct rc_pps_edges *e, bool clear, uint32_t *last_seq,
                   struct rc_result *r)
{
    memset(r, 0, sizeof *r);
    uint32_t seq = clear ? e->clear_seq : e->assert_seq;
    struct timespec ts = clear ? e->clear_ts : e->assert_ts;
    if (seq == *last_seq) {
        r->fault = ENG_RC_NOREPLY;
        r->why = "no new edge";
        return;
    }
    if (ts.tv_sec <= 0 || ts.tv_nsec < 0 || ts.tv_nsec > 999999999L) {
        r->fault = ENG_RC_BADDATA;
        r->why = "edge time out of range";
        return;
    }
    *last_seq = seq;
    r->s.local = ts;
    r->s.leap = NTK_LEAP_NONE;
    struct ntk_sb sb;
    ntk_sb_init(&sb, r->s.timecode, sizeof r->s.timecode);
    ntk_sb_printf(&sb, "%s %lu %lld.%09ld", clear ? "clear" : "assert", (unsigned long)seq,
                  (long long)ts.tv_sec, ts.tv_nsec);
}

enum rc_pps_kernel rc_pps_kernel_args(unsigned flags, bool observe, struct pps_bind_args *args)
{
    if (!(flags & 4))
        return RC_PPS_KERNEL_OFF;
    if (observe)
        return RC_PPS_KERNEL_SKIPPED;
    *args = (struct pps_bind_args){
        .tsformat = PPS_TSFMT_TSPEC,
        .edge = flags & 2 ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT,
        .consumer = PPS_KC_HARDPPS,
    };
    return RC_PPS_KERNEL_BIND;
}

void rc_pps_unbind_args(struct pps_bind_args *args)
{
    *args = (struct pps_bind_args){.tsformat = PPS_TSFMT_TSPEC, .consumer = PPS_KC_HARDPPS};
}

const char *rc_type_name(enum eng_rc_type t)
{
    switch (t) {
    case ENG_RC_PPS:
        return "PPS";
    case ENG_RC_SHM:
        return "SHM";
    case ENG_RC_SOCK:
        return "SOCK";
    }
    return "?";
}
