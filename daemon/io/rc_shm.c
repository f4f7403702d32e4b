/* SPDX-License-Identifier: BSD-2-Clause */
/* The ntpd SHM segment (driver 28, what gpsd writes): the reader's handshake over memory and
 * the decoding of one snapshot into a sample or a fault, free of system calls. */
#include <stdatomic.h>
#include <string.h>

#include "ntk/sb.h"
#include "refclock.h"

#include "poison.h"

void rc_shm_fetch(volatile struct rc_shm_time *seg, struct rc_shm_snap *out)
{
    /* Field by field: the producer may write while we read (mode 1 detects it by count). */
    out->t.count = seg->count;
    atomic_thread_fence(memory_order_seq_cst);
    out->t.mode = seg->mode;
    out->t.clockTimeStampSec = seg->clockTimeStampSec;
    out->t.clockTimeStampUSec = seg->clockTimeStampUSec;
    out->t.receiveTimeStampSec = seg->receiveTimeStampSec;
    out->t.receiveTimeStampUSec = seg->receiveTimeStampUSec;
    out->t.leap = seg->leap;
    out->t.precision = seg->precision;
    out->t.nsamples = seg->nsamples;
    out->t.valid = seg->valid;
    out->t.clockTimeStampNSec = seg->clockTimeStampNSec;
    out->t.receiveTimeStampNSec = seg->receiveTimeStampNSec;
    memset(out->t.dummy, 0, sizeof out->t.dummy);
    atomic_thread_fence(memory_order_seq_cst);
    out->count_after = seg->count;
    /* The sample is taken (or refused): the producer sees that we read it. */
    seg->valid = 0;
    atomic_thread_fence(memory_order_seq_cst);
}

static void fault(struct rc_result *r, enum eng_rc_fault f, const char *why)
{
    r->fault = (int)f;
    r->why = why;
}

/* The ns of a time: the ns field when it agrees with the µs one (gpsd writes both; an old
 * producer leaves ns at 0), else the µs. -1 when out of range. */
static long pick_ns(int usec, unsigned nsec)
{
    if (usec < 0 || usec > 999999 || nsec > 999999999u) {
        return -1;
    }
    if (nsec / 1000u == (unsigned)usec) {
        return (long)nsec;
    }
    return (long)usec * 1000L;
}

void rc_shm_decode(const struct rc_shm_snap *snap, double maxdelta_s, struct rc_result *r)
{
    const struct rc_shm_time *t = &snap->t;
    memset(r, 0, sizeof *r);
    if (t->valid == 0) {
        fault(r, ENG_RC_NOREPLY, "no new sample (valid 0)");
        return;
    }
    if (t->mode != 0 && t->mode != 1) {
        fault(r, ENG_RC_BADFORMAT, "mode is neither 0 nor 1");
        return;
    }
    if (t->mode == 1 && t->count != snap->count_after) {
        fault(r, ENG_RC_BADDATA, "count changed while reading (mode 1)");
        return;
    }
    long cns = pick_ns(t->clockTimeStampUSec, t->clockTimeStampNSec);
    long rns = pick_ns(t->receiveTimeStampUSec, t->receiveTimeStampNSec);
    if (cns < 0 || rns < 0) {
        fault(r, ENG_RC_BADDATA, "microseconds or nanoseconds out of range");
        return;
    }
    if (t->clockTimeStampSec <= 0 || t->receiveTimeStampSec <= 0) {
        fault(r, ENG_RC_BADDATA, "time not positive");
        return;
    }
    if (t->leap < 0 || t->leap > 3) {
        fault(r, ENG_RC_BADDATA, "leap not 0..3");
        return;
    }
    /* In double: time_t differences of wild values would overflow. */
    double d = ((double)t->clockTimeStampSec - (double)t->receiveTimeStampSec) +
               (double)(cns - rns) * 1e-9;
    if (maxdelta_s > 0 && (d > maxdelta_s || d < -maxdelta_s)) {
        fault(r, ENG_RC_BADDATA, "clock and receive times too far apart");
        return;
    }
    r->s.ref = (struct timespec){.tv_sec = t->clockTimeStampSec, .tv_nsec = cns};
    r->s.local = (struct timespec){.tv_sec = t->receiveTimeStampSec, .tv_nsec = rns};
    r->s.leap = (enum ntk_leap)t->leap;
    r->s.precision_log2 = t->precision >= -30 && t->precision <= -1 ? (int8_t)t->precision : 0;
    struct ntk_sb sb;
    ntk_sb_init(&sb, r->s.timecode, sizeof r->s.timecode);
    ntk_sb_printf(&sb, "%lld.%09ld %lld.%09ld", (long long)t->clockTimeStampSec, cns,
                  (long long)t->receiveTimeStampSec, rns);
}
