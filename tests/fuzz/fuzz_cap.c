/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for ntpcap's analyzer core: the whole capture path (link layer to anomaly
 * checks) over a sequence of frames fed to one analyzer with small tables.
 *
 * Input: one byte choosing the link type, then records of a 2-byte big-endian frame length,
 * one byte of time increment (units of 10 ms) and the frame bytes (a short last record is
 * cut to what is left). Invariants: every frame is counted exactly once in the stats, no
 * more exchanges than requests or responses seen, the flow table never holds more than its
 * bound. A second analyzer is fed the same frames the way ntpcap's reading thread hands them
 * over (cap_decode_frame, cap_hash_frame, the report's line start attached, then
 * cap_feed_decoded): it must report the same exchanges, anomalies and flows, and hand each
 * line start back unchanged. */
#include <string.h>

#include "cap.h"
#include "cap_decode.h"
#include "cap_out.h"
#include "fuzz.h"

#include "poison.h"

enum { MAX_FLOWS = 4, MAX_PENDING = 4 };

struct seen {
    uint64_t requests, responses, exchanges, flows_reported;
    uint64_t digest; /* of every exchange, anomaly and flow reported, in order */
};

/* FNV-1a over n bytes, continuing h. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *b = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ULL;
    }
    return h;
}

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
    const uint64_t v[] = {x->kind,       x->req->frame, x->resp->frame, x->req_bytes,
                          x->resp_bytes, x->resp_frags, x->interleaved};
    s->digest = fnv(s->digest, v, sizeof v);
    const double t[] = {x->rtt_cap_s,    x->offset_pkt_s, x->delay_pkt_s,
                        x->offset_cap_s, x->delay_cap_s,  x->server_s};
    s->digest = fnv(s->digest, t, sizeof t);
    if (x->req_line != NULL) { /* as it was made from the request */
        struct cap_tod tod = {0};
        char want[CAP_REQ_LINE_MAX];
        size_t n = cap_out_line_start(&tod, x->req, x->kind, x->req->ts_sec, x->req->ts_nsec,
                                      want, sizeof want);
        FUZZ_CHECK(n == x->req_line_len && memcmp(want, x->req_line, n) == 0);
    }
}

static void on_anomaly(void *ctx, const struct cap_anom *a)
{
    struct seen *s = ctx;
    FUZZ_CHECK(a->code != NULL && memchr(a->detail, '\0', sizeof a->detail) != NULL);
    s->digest = fnv(s->digest, a->code, strlen(a->code));
    s->digest = fnv(s->digest, a->detail, strlen(a->detail));
}

static void on_flow(void *ctx, const struct cap_flow *f)
{
    struct seen *s = ctx;
    s->flows_reported++;
    FUZZ_CHECK(f->auth != NULL);
    const uint64_t v[] = {f->pkts_c2s, f->pkts_s2c,  f->bytes_c2s, f->bytes_s2c,
                          f->requests, f->responses, f->exchanges, f->evicted};
    s->digest = fnv(s->digest, v, sizeof v);
}

/* Feeds a frame as ntpcap's reading thread hands it to the analyzer. */
static void feed_as_reader(struct cap *c, struct cap_tod *tod, int link, const uint8_t *f,
                           size_t have, size_t len, int64_t sec, uint32_t nsec)
{
    struct cap_pkt p;
    struct cap_dec d;
    (void)cap_decode_frame(link, f, have, len, &p, &d);
    cap_hash_frame(&p, &d);
    char line[CAP_REQ_LINE_MAX];
    enum cap_xkind kind;
    if (p.what == CAP_NTP && cap_request_kind(&p, &kind)) {
        d.line_len = cap_out_line_start(tod, &p, kind, sec, nsec, line, sizeof line);
        d.line = d.line_len > 0 ? line : NULL;
    }
    cap_feed_decoded(c, &p, &d, len, sec, nsec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {CAP_LINK_NULL, CAP_LINK_EN10MB, CAP_LINK_RAW,
                                CAP_LINK_LINUX_SLL, CAP_LINK_LINUX_SLL2};
    if (size < 1) {
        return 0;
    }
    int link = links[data[0] % 5];
    struct seen s = {0}, s2 = {0};
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
    struct cap_sink sink2 = sink;
    sink2.ctx = &s2;
    struct cap *c2 = cap_new(&cfg, &sink2);
    if (!c2) {
        cap_destroy(c);
        return 0;
    }
    struct cap_tod tod = {0};
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
        feed_as_reader(c2, &tod, link, f, have, len, sec, nsec);
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
    cap_finish(c2);
    FUZZ_CHECK(memcmp(cap_stats(c2), st, sizeof *st) == 0);
    FUZZ_CHECK(s2.digest == s.digest && s2.exchanges == s.exchanges &&
               s2.flows_reported == s.flows_reported);
    cap_destroy(c2);
    cap_destroy(c);
    return 0;
}
