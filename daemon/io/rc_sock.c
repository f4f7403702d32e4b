/* SPDX-License-Identifier: BSD-2-Clause */
/* chrony's refclock socket protocol (refclock_sock.c): one struct sock_sample per datagram,
 * decoded into a sample or a fault, free of system calls. */
#include <math.h>
#include <string.h>

#include "ntk/sb.h"
#include "refclock.h"

#include "poison.h"

_Static_assert(sizeof(struct rc_sock_sample) == 40, "struct sock_sample is 40 bytes on LP64");

static void fault(struct rc_result *r, enum eng_rc_fault f, const char *why)
{
    r->fault = (int)f;
    r->why = why;
}

/* local + offset as a timespec (offset checked finite and below 1e9 s). */
static struct timespec add_offset(struct timespec local, double offset_s)
{
    double whole = floor(offset_s);
    long ns = lround((offset_s - whole) * 1e9) + local.tv_nsec;
    time_t sec = local.tv_sec + (time_t)whole;
    while (ns >= 1000000000L) {
        ns -= 1000000000L;
        sec++;
    }
    return (struct timespec){.tv_sec = sec, .tv_nsec = ns};
}

void rc_sock_decode(const uint8_t *p, size_t len, struct rc_result *r)
{
    memset(r, 0, sizeof *r);
    struct rc_sock_sample s;
    if (len != sizeof s) {
        fault(r, ENG_RC_BADFORMAT, "datagram is not a struct sock_sample (size)");
        return;
    }
    memcpy(&s, p, sizeof s);
    if (s.magic != RC_SOCK_MAGIC) {
        fault(r, ENG_RC_BADFORMAT, "bad magic");
        return;
    }
    if (s.tv.tv_sec <= 0 || s.tv.tv_usec < 0 || s.tv.tv_usec > 999999) {
        fault(r, ENG_RC_BADDATA, "time out of range");
        return;
    }
    if (!isfinite(s.offset) || fabs(s.offset) >= 1e9 || (s.pulse && fabs(s.offset) >= 0.5)) {
        fault(r, ENG_RC_BADDATA, "offset out of range");
        return;
    }
    if (s.leap < 0 || s.leap > 2) {
        fault(r, ENG_RC_BADDATA, "leap not 0..2");
        return;
    }
    r->s.local = (struct timespec){.tv_sec = s.tv.tv_sec, .tv_nsec = s.tv.tv_usec * 1000L};
    if (!s.pulse) {
        r->s.ref = add_offset(r->s.local, s.offset);
    }
    r->s.leap = (enum ntk_leap)s.leap;
    struct ntk_sb sb;
    ntk_sb_init(&sb, r->s.timecode, sizeof r->s.timecode);
    ntk_sb_printf(&sb, "%s %lld.%06ld %+.9f", s.pulse ? "pulse" : "sample",
                  (long long)s.tv.tv_sec, (long)s.tv.tv_usec, s.offset);
}
