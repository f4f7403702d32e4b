/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/io/rc_sock.c: any datagram decodes to a fault, or (40 bytes with
 * the magic) to a sample in range whose reference is the local time plus the offset. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "refclock.h"

#include "poison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rc_result r;
    rc_sock_decode(data, size, &r);
    if (r.fault != 0) {
        FUZZ_CHECK(r.fault == ENG_RC_BADFORMAT || r.fault == ENG_RC_BADDATA);
        FUZZ_CHECK(r.fault == ENG_RC_BADDATA || size != sizeof(struct rc_sock_sample) ||
                   memcmp(data + offsetof(struct rc_sock_sample, magic), &(int){RC_SOCK_MAGIC},
                          sizeof(int)) != 0);
        return 0;
    }
    struct rc_sock_sample s;
    FUZZ_CHECK(size == sizeof s);
    memcpy(&s, data, sizeof s);
    FUZZ_CHECK(s.magic == RC_SOCK_MAGIC);
    FUZZ_CHECK(r.s.local.tv_sec == s.tv.tv_sec && r.s.local.tv_nsec == s.tv.tv_usec * 1000L);
    FUZZ_CHECK(r.s.local.tv_nsec >= 0 && r.s.local.tv_nsec < 1000000000L);
    FUZZ_CHECK(r.s.ref.tv_nsec >= 0 && r.s.ref.tv_nsec < 1000000000L);
    FUZZ_CHECK((unsigned)r.s.leap <= 2u);
    if (s.pulse) {
        FUZZ_CHECK(r.s.ref.tv_sec == 0 && r.s.ref.tv_nsec == 0 && fabs(s.offset) < 0.5);
    } else {
        double d = (double)(r.s.ref.tv_sec - r.s.local.tv_sec) +
                   (double)(r.s.ref.tv_nsec - r.s.local.tv_nsec) * 1e-9;
        FUZZ_CHECK(fabs(d - s.offset) <= 1e-6 * fmax(1.0, fabs(s.offset)));
    }
    return 0;
}
