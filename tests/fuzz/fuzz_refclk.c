/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness: the engine's refclock path (eng_on_refclock_sample / _fault and the polls)
 * with arbitrary samples, as a broken or hostile driver (an SHM segment anyone could write,
 * a SOCK peer) could hand them over. The engine must never crash, never send a datagram for
 * a refclock, keep every offset it reports finite, and account for every sample: accepted
 * ones in the median filter, refused ones (NTK_ERANGE) counted.
 *
 * Input: records of 12 bytes [op] [arg] [10 bytes]. op % 4: 0 an SHM sample whose reference
 * time is the local time plus the signed 64-bit ns in bytes 2..9 and whose local time is off
 * now by the signed 16-bit us in bytes 10..11 (bytes 2..11 are also its timecode); 1 a PPS
 * edge at the ns of the second in bytes 2..5 (mod 1e9); 2 fault arg % 3 + 1 for refclock
 * arg / 3 % 3 (the third id is unknown); 3 time moves on by arg + 1 seconds, timers run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/core/engine.h"
#include "../../daemon/core/engine_internal.h" /* sizeof (struct eng), its NTS key pointers */
#include "../../daemon/core/snap.h"
#include "fuzz.h"
#include "ntk/err.h"

#include "poison.h"

#define NS 1000000000LL

static int f_now(void *ctx, struct timespec *t)
{
    (void)ctx;
    (void)t;
    return 0;
}
static int f_zero(void *ctx)
{
    (void)ctx;
    return 0;
}
static int f_adj(void *ctx, double v)
{
    (void)ctx;
    (void)v;
    return 0;
}
static int f_read(void *ctx, double *ppm)
{
    (void)ctx;
    *ppm = 0;
    return 0;
}
static int f_leap(void *ctx, int leap)
{
    (void)ctx;
    (void)leap;
    return 0;
}
static int f_sync(void *ctx, int s, double a, double b)
{
    (void)ctx;
    (void)s;
    (void)a;
    (void)b;
    return 0;
}

static const struct ntk_clk_ops fake = {.name = "fuzz",
                                        .now = f_now,
                                        .check_privilege = f_zero,
                                        .step = f_adj,
                                        .slew = f_adj,
                                        .read_freq = f_read,
                                        .set_freq = f_adj,
                                        .set_leap = f_leap,
                                        .set_sync_status = f_sync};

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (uint8_t)(*s >> 56);
    }
}

static struct timespec ts_of_ns(int64_t ns)
{
    int64_t s = ns / NS, r = ns % NS;
    if (r < 0) {
        s--;
        r += NS;
    }
    return (struct timespec){.tv_sec = (time_t)s, .tv_nsec = (long)r};
}

static int64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    if (n < 8 && (v >> (8 * n - 1)) & 1)
        v |= ~0ULL << (8 * n); /* sign-extend */
    return (int64_t)v;
}

struct run {
    struct eng *e;
    int64_t t_ns;  /* local clock since the epoch below (the engine corrects nothing here) */
    uint64_t sent; /* samples accepted */
};

static struct eng_now now_of(const struct run *r)
{
    return (struct eng_now){.real = ts_of_ns(r->t_ns), .mono_ns = r->t_ns - 1700000000 * NS};
}

static void drain(struct run *r)
{
    struct eng_action a;
    while (eng_pop_action(r->e, &a))
        FUZZ_CHECK(a.kind != ENG_ACT_SEND); /* refclocks only: nothing to send, ever */
}

static void sample(struct run *r, const uint8_t *p, bool pps)
{
    struct eng_now n = now_of(r);
    struct eng_rc_sample s;
    memset(&s, 0, sizeof s);
    if (pps) {
        s.local.tv_sec = n.real.tv_sec;
        s.local.tv_nsec = (long)((uint64_t)le(p + 2, 4) % (uint64_t)NS);
    } else {
        int64_t ref = le(p + 2, 8) / 4; /* +-73 years at most: no overflow below */
        s.ref = ts_of_ns(r->t_ns + ref);
        s.local = ts_of_ns(r->t_ns + le(p + 10, 2) * 1000);
        memcpy(s.timecode, p + 2, 10);
        s.leap = (enum ntk_leap)(p[1] & 3);
        s.precision_log2 = (int8_t) - (p[1] >> 3);
    }
    int rc = eng_on_refclock_sample(r->e, pps ? 2 : 1, &s, &n);
    FUZZ_CHECK(rc == 0 || rc == NTK_ERANGE);
    r->sent += rc == 0;
    drain(r);
}

static void advance(struct run *r, unsigned seconds)
{
    int64_t end = r->t_ns + (int64_t)seconds * NS;
    for (int guard = 0; guard < 1000; guard++) {
        int64_t dl = eng_next_deadline(r->e);
        if (dl > end - 1700000000 * NS)
            break;
        int64_t d = dl + 1700000000 * NS;
        if (d > end)
            break;
        if (d > r->t_ns)
            r->t_ns = d;
        struct eng_now n = now_of(r);
        eng_on_timer(r->e, &n);
        drain(r);
    }
    r->t_ns = end;
}

static void check(const struct run *r)
{
    struct snap_system sys;
    struct snap_assoc as[2];
    struct eng_now n = now_of(r);
    size_t k = eng_snap(r->e, n.mono_ns, &sys, NULL, as, 2);
    FUZZ_CHECK(k == 2);
    uint64_t taken = 0;
    for (size_t i = 0; i < 2; i++) {
        FUZZ_CHECK(as[i].refclock && as[i].sent == 0);
        FUZZ_CHECK(isfinite(as[i].offset_s) && isfinite(as[i].jitter_s));
        FUZZ_CHECK(as[i].jitter_s >= 0);
        taken += as[i].rc_samples;
    }
    FUZZ_CHECK(taken == r->sent);
    FUZZ_CHECK(as[0].rc_refused_pps == 0);             /* only PPS edges lack a second */
    FUZZ_CHECK(sys.stratum == 16 || sys.stratum == 1); /* refclocks of stratum 0 only */
    FUZZ_CHECK(isfinite(sys.offset_s));
}

/* The engine with its two refclocks, as eng_new and eng_add_refclock make it (observe or
 * not: one of each). Building it per input was eng_new's 650 KB calloc, fresh pages each time
 * (page faults were a large part of the run time): each input now runs on a byte copy of
 * the one built at the first input, in a block allocated once. The copy is the state a
 * fresh build makes: the build is deterministic (fixed time, fixed seed, restored with it)
 * and the engine owns no heap memory without NTS (checked after every input). */
static struct eng *pristine[2];
static uint64_t pristine_seed[2], seed;
static struct eng *work;

static struct eng *build(bool observe)
{
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = observe;
    seed = 5;
    struct eng_rng rng = {.ctx = &seed, .bytes = rng_bytes};
    struct run r = {.t_ns = 1764126000 * NS};
    struct eng_now n = now_of(&r);
    struct eng *e = eng_new(&cfg, &fake, &rng, NULL, &n);
    FUZZ_CHECK(e != NULL);
    struct eng_refclock_cfg c;
    eng_refclock_defaults(&c, ENG_RC_SHM, 0);
    c.prefer = true;
    FUZZ_CHECK(eng_add_refclock(e, &c, &n) == 1);
    eng_refclock_defaults(&c, ENG_RC_PPS, 0);
    FUZZ_CHECK(eng_add_refclock(e, &c, &n) == 2);
    return e;
}

static struct eng *fresh(bool observe)
{
    if (work == NULL) {
        work = malloc(sizeof *work);
        FUZZ_CHECK(work != NULL);
    }
    if (pristine[observe] == NULL) {
        pristine[observe] = build(observe);
        pristine_seed[observe] = seed;
    }
    memcpy(work, pristine[observe], sizeof *work);
    seed = pristine_seed[observe];
    return work;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run r = {.t_ns = 1764126000 * NS};
    r.e = fresh((size & 1) != 0);
    for (size_t off = 0; off + 12 <= size; off += 12) {
        const uint8_t *p = data + off;
        switch (p[0] % 4) {
        case 0:
        case 1:
            sample(&r, p, p[0] % 4 == 1);
            break;
        case 2:
            eng_on_refclock_fault(r.e, (uint32_t)(p[1] / 3 % 3 + 1),
                                  (enum eng_rc_fault)(p[1] % 3 + 1));
            break;
        default:
            advance(&r, (unsigned)p[1] + 1);
            break;
        }
        check(&r);
    }
    FUZZ_CHECK(r.e->nts_c2s == NULL && r.e->nts_s2c == NULL); /* the copy stays complete */
    return 0;
}
