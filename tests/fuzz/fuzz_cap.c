/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for ntpcap's analyzer core: the whole capture path (link layer to anomaly
 * checks) over a sequence of frames fed to one analyzer with small tables.
 *
 * Input: one byte choosing the link type, then records of a 2-byte big-endian frame length,
 * one byte of time increment (units of 10 ms) and the frame bytes (a short last record is
 * cut to what is left). Invariants: every frame is counted exactly once in the stats, no
 * more exchanges than requests or responses seen, the flow table never holds more than its
 * bound. */
#include <string.h>

#include "cap.h"
#include "fuzz.h"

#include "poison.h"

enum { MAX_FLOWS = 4, MAX_PENDING = 4 };

struct seen {
    uint64_t requests, responses, exchanges, flows_reported;
};

static void on_packet(void *ctx, const struct cap_pkt *p)
{
    struct seen *s = ctx;
    if (p->what != CAP_NTP) {
        return;
    }
    bool resp =
        p->mode == 4 || (p->mode == 6 && p->m6_response) || (p->mode == 7 && p->m7_response);
    bool req =
        p->mode == 3 || (p->mode == 6 && !p->m6_response) || (p->mode == 7 && !p->m7_response);
    bool sym = p->mode == 1 || p->mode == 2;
    s->requests += req || sym;
    s->responses += resp || sym;
}

static void on_exchange(void *ctx, const struct cap_exch *x)
{
    struct seen *s = ctx;
    s->exchanges++;
    FUZZ_CHECK(x->req != NULL && x->resp != NULL);
    FUZZ_CHECK(x->resp_frags >= 1);
}

static void on_anomaly(void *ctx, const struct cap_anom *a)
{
    (void)ctx;
    FUZZ_CHECK(a->code != NULL && memchr(a->detail, '\0', sizeof a->detail) != NULL);
}

static void on_flow(void *ctx, const struct cap_flow *f)
{
    struct seen *s = ctx;
    s->flows_reported++;
    FUZZ_CHECK(f->auth != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {CAP_LINK_NULL, CAP_LINK_EN10MB, CAP_LINK_RAW,
                                CAP_LINK_LINUX_SLL, CAP_LINK_LINUX_SLL2};
    if (size < 1) {
        return 0;
    }
    int link = links[data[0] % 5];
    struct seen s = {0};
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    cfg.max_flows = MAX_FLOWS;
    cfg.max_pending = MAX_PENDING;
    cfg.pair_timeout_s = 1;
    struct cap_sink sink = {.ctx = &s,
                            .packet = on_packet,
                            .exchange = on_exchange,
                            .anomaly = on_anomaly,
                            .flow = on_flow};
    struct cap *c = cap_new(&cfg, &sink);
    if (!c) {
        return 0;
    }
    int64_t sec = 1795000000;
    uint32_t nsec = 0;
    uint64_t frames = 0;
    for (size_t off = 1; off + 3 <= size;) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        nsec += (uint32_t)data[off + 2] * 10000000u;
        sec += nsec / 1000000000u;
        nsec %= 1000000000u;
        off += 3;
        size_t have = size - off < len ? size - off : len;
        /* A fresh copy, so reads past the frame are caught by ASan. */
        uint8_t *f = malloc(have ? have : 1);
        FUZZ_CHECK(f != NULL);
        memcpy(f, data + off, have);
        cap_feed(c, link, f, have, len, sec, nsec);
        free(f);
        frames++;
        off += have;
        const struct cap_stats *st = cap_stats(c);
        FUZZ_CHECK(st->flows - st->flow_evictions <= MAX_FLOWS);
    }
    cap_finish(c);
    const struct cap_stats *st = cap_stats(c);
    FUZZ_CHECK(st->frames == frames);
    FUZZ_CHECK(st->frames == st->ntp + st->ntske + st->other + st->truncated + st->malformed);
    FUZZ_CHECK(st->exchanges == s.exchanges);
    FUZZ_CHECK(s.exchanges <= s.requests && s.exchanges <= s.responses);
    FUZZ_CHECK(st->exchanges + st->unmatched_resp <= s.responses);
    FUZZ_CHECK(st->flows == s.flows_reported);
    FUZZ_CHECK(st->undecoded <= st->ntp);
    cap_destroy(c);
    return 0;
}
