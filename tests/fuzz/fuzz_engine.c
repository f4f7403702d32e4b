/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness: eng_on_packet with arbitrary bytes from arbitrary addresses. The engine must
 * never crash, and must never touch the clock unless some datagram answered one of its
 * requests (echoed the request's nonce as its origin timestamp, from that server).
 *
 * Input: a sequence of records [addr selector (1 byte)] [delay ms (1 byte)] [length (1 byte)]
 * [length bytes]. Selector % 4 picks 127.0.0.1, 127.0.0.2, ::1 (the three servers) or
 * 192.0.2.9 (no association); bit 7 set makes the record's first 8 bytes after byte 24 the
 * current nonce of that server, so the fuzzer reaches the accepted-reply paths too. */
#include <stdlib.h>
#include <string.h>

#include "../../daemon/core/engine.h"
#include "../../daemon/core/engine_internal.h" /* sizeof (struct eng), its NTS key pointers */
#include "../../daemon/core/snap.h"
#include "fuzz.h"
#include "ntk/pkt.h"

#include "poison.h"

#define NSERV 3

static int clock_calls;

static int f_now(void *ctx, struct timespec *t)
{
    (void)ctx;
    (void)t;
    return 0;
}
static int f_priv(void *ctx)
{
    (void)ctx;
    return 0;
}
static int f_adj(void *ctx, double v)
{
    (void)ctx;
    (void)v;
    clock_calls++;
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
    clock_calls++;
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
                                        .check_privilege = f_priv,
                                        .step = f_adj,
                                        .slew = f_adj,
                                        .read_freq = f_read,
                                        .set_freq = f_adj,
                                        .set_leap = f_leap,
                                        .set_sync_status = f_sync};

/* A deterministic generator: the nonces are predictable on purpose (see bit 7 above). */
static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (uint8_t)(*s >> 56);
    }
}

struct world {
    struct eng *e;
    struct eng_now now;
    struct ntk_addr addr[NSERV + 1];
    uint8_t nonce[NSERV][8]; /* the last request's transmit timestamp per server */
    bool answered;           /* some datagram echoed a nonce from its server */
};

static void drain(struct world *w)
{
    struct eng_action a;
    while (eng_pop_action(w->e, &a)) {
        if (a.kind != ENG_ACT_SEND || a.len < NTK_PKT_HDR_LEN)
            continue;
        for (int i = 0; i < NSERV; i++)
            if (ntk_addr_eq(&a.remote, &w->addr[i]) && a.remote.port == w->addr[i].port)
                memcpy(w->nonce[i], a.pkt + 40, 8);
    }
}

static void advance(struct world *w, int64_t ns)
{
    w->now.mono_ns += ns;
    w->now.real.tv_nsec += (long)(ns % 1000000000);
    w->now.real.tv_sec += (time_t)(ns / 1000000000) + w->now.real.tv_nsec / 1000000000;
    w->now.real.tv_nsec %= 1000000000;
    if (eng_next_deadline(w->e) <= w->now.mono_ns)
        eng_on_timer(w->e, &w->now);
    drain(w);
}

static void setup(struct world *w, uint64_t *seed)
{
    memset(w, 0, sizeof *w);
    w->now.real.tv_sec = 1764126000;
    w->now.mono_ns = 1000000000;
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    struct eng_rng rng = {.ctx = seed, .bytes = rng_bytes};
    w->e = eng_new(&cfg, &fake, &rng, NULL, &w->now);
    static const char *const names[NSERV + 1] = {"127.0.0.1", "127.0.0.2", "::1", "192.0.2.9"};
    for (int i = 0; i <= NSERV; i++) {
        (void)ntk_addr_parse_span((struct ntk_span){names[i], strlen(names[i])}, &w->addr[i]);
        w->addr[i].port = 123;
        if (i < NSERV) {
            struct eng_server_cfg c;
            eng_server_defaults(&c);
            c.addr = w->addr[i];
            c.iburst = true;
            (void)eng_add_server(w->e, &c, &w->now);
        }
    }
    eng_on_timer(w->e, &w->now);
    drain(w);
}

static void feed(struct world *w, uint8_t sel, const uint8_t *p, size_t len)
{
    uint8_t buf[256];
    memcpy(buf, p, len);
    int who = sel & 3;
    if ((sel & 0x80) && who < NSERV && len >= 32)
        memcpy(buf + 24, w->nonce[who], 8);
    if (who < NSERV && len >= 32 && memcmp(buf + 24, w->nonce[who], 8) == 0)
        w->answered = true;
    struct timespec rx = w->now.real;
    eng_on_packet(w->e, &w->now, buf, len, &w->addr[who], &rx, ENG_RX_KERNEL);
    drain(w);
}

/* Every input starts from the same world: the engine right after setup. Building it took
 * eng_new's 650 KB calloc per input (fresh pages: most of the run time went to page faults),
 * so it is built once and each input runs on a byte copy of it in a block allocated once.
 * The copy is the same state a fresh setup makes: setup is deterministic (fixed clock, fixed
 * rng seed, saved and restored with it), and the engine owns no heap memory without NTS
 * servers (checked after every input: its NTS key pointers stay NULL). */
static struct world pristine;
static uint64_t pristine_seed, seed;
static int pristine_calls;
static struct eng *work;

static bool fresh_world(struct world *w)
{
    if (pristine.e == NULL) {
        seed = 42;
        clock_calls = 0;
        setup(&pristine, &seed);
        work = malloc(sizeof *work);
        if (pristine.e == NULL || work == NULL)
            return false;
        pristine_seed = seed;
        pristine_calls = clock_calls;
    }
    memcpy(work, pristine.e, sizeof *work);
    *w = pristine;
    w->e = work;
    seed = pristine_seed;
    clock_calls = pristine_calls;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world w;
    if (!fresh_world(&w))
        return 0;
    int base = clock_calls; /* disc_init may set the initial frequency */
    size_t i = 0;
    while (i + 3 <= size) {
        uint8_t sel = data[i], delay = data[i + 1];
        size_t len = data[i + 2];
        i += 3;
        if (len > size - i)
            len = size - i;
        advance(&w, (int64_t)delay * 20000000); /* 0..5 s */
        feed(&w, sel, data + i, len);
        i += len;
        FUZZ_CHECK(w.answered || clock_calls == base);
    }
    struct snap_system sys;
    struct snap_assoc as[NSERV];
    FUZZ_CHECK(eng_snap(w.e, w.now.mono_ns, &sys, NULL, as, NSERV) == NSERV);
    FUZZ_CHECK(w.answered || sys.sys_peer == 0);
    FUZZ_CHECK(w.e->nts_c2s == NULL && w.e->nts_s2c == NULL); /* the copy stays complete */
    return 0;
}
