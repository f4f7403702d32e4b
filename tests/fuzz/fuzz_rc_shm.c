/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/io/rc_shm.c: any bytes as an SHM segment (and the count read after
 * it) decode to a fault or to a sample whose fields are in range and are the segment's. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "refclock.h"

#include "poison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rc_shm_time seg;
    int count_after = 0;
    if (size < sizeof seg) {
        return 0;
    }
    memcpy(&seg, data, sizeof seg);
    if (size >= sizeof seg + sizeof count_after) {
        memcpy(&count_after, data + sizeof seg, sizeof count_after);
    } else {
        count_after = seg.count;
    }
    double maxdelta = size % 2 ? 0 : RC_SHM_MAXDELTA_S; /* flag1 on odd sizes */

    /* The reader's handshake on a copy, as on the real segment. */
    struct rc_shm_snap snap;
    rc_shm_fetch(&seg, &snap);
    FUZZ_CHECK(seg.valid == 0);
    snap.count_after = count_after;

    struct rc_result r;
    rc_shm_decode(&snap, maxdelta, &r);
    if (r.fault != 0) {
        FUZZ_CHECK(r.fault >= ENG_RC_NOREPLY && r.fault <= ENG_RC_BADDATA && r.why != NULL);
        return 0;
    }
    FUZZ_CHECK(snap.t.valid != 0 && (snap.t.mode == 0 || snap.t.mode == 1));
    FUZZ_CHECK(snap.t.mode == 0 || snap.t.count == count_after);
    FUZZ_CHECK(r.s.ref.tv_sec == snap.t.clockTimeStampSec && r.s.ref.tv_sec > 0);
    FUZZ_CHECK(r.s.local.tv_sec == snap.t.receiveTimeStampSec && r.s.local.tv_sec > 0);
    FUZZ_CHECK(r.s.ref.tv_nsec >= 0 && r.s.ref.tv_nsec < 1000000000L);
    FUZZ_CHECK(r.s.local.tv_nsec >= 0 && r.s.local.tv_nsec < 1000000000L);
    FUZZ_CHECK(r.s.ref.tv_nsec / 1000 == snap.t.clockTimeStampUSec);
    FUZZ_CHECK((unsigned)r.s.leap <= 3u);
    FUZZ_CHECK(r.s.precision_log2 >= -30 && r.s.precision_log2 <= 0);
    FUZZ_CHECK(memchr(r.s.timecode, '\0', sizeof r.s.timecode) != NULL);
    if (maxdelta > 0) {
        double d = (double)r.s.ref.tv_sec - (double)r.s.local.tv_sec;
        FUZZ_CHECK(d <= maxdelta + 1 && d >= -maxdelta - 1);
    }
    return 0;
}
