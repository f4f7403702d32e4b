/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulator's event loop: true time, the engine's timers, datagrams through the
 * simulated network and servers, and the per-second metrics. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "simrng.h"

#include "poison.h"

#define NS_PER_S     1000000000LL
#define INFLIGHT_MAX 512
#define PKT_MAX      128
/* A run that handles this many events at one instant is stuck (an engine deadline that does
 * not move): stop it rather than spin (chrony's timer fuse). */
#define FUSE_MAX 100000

/* Random streams: one per model, so none perturbs the others. */
enum { STREAM_NET = 1, STREAM_WANDER = 2, STREAM_ENGINE = 3, STREAM_REFCLOCK = 4 };

/* A datagram in flight. */
struct pkt {
    int64_t t_ns; /* arrival (true time) */
    uint64_t seq; /* tie-break: first sent, first handled */
    int srv;      /* the server at either end */
    bool to_srv;  /* direction */
    bool kiss;    /* a reply that is a kiss-o'-death */
    size_t len;
    uint8_t buf[PKT_MAX];
};

struct sim {
    const struct sim_spec *spec;
    const struct sim_opts *o;
    struct sim_result *r;
    struct simclk clk;
    struct ntk_clk_ops ops;
    struct simrng net, wander, engrng, rcrng;
    struct eng_rng erng;
    struct simsrv srv[SIM_SERVERS_MAX];
    struct ntk_addr addr[SIM_SERVERS_MAX];
    struct eng *eng;
    struct pkt *heap; /* INFLIGHT_MAX, a binary min-heap by (t_ns, seq) */
    size_t nheap;
    uint64_t seq;
    int64_t end_ns, grid_ns, leap_ns;
    int64_t rc_ns;       /* the next refclock sample (INT64_MAX: none) */
    int leaps;           /* true leap seconds so far */
    double prev_drift_s; /* the clock's drift at the previous sample */
    unsigned steps_seen;
    bool stop;
};

static double now_s(const struct sim *s)
{
    return (double)s->clk.t_ns * 1e-9;
}

__attribute__((format(printf, 2, 3))) static void logf_(const struct sim *s, const char *fmt,
                                                        ...)
{
    if (!s->o->log) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(s->o->log, "%12.6f %s ", now_s(s), s->spec->name);
    vfprintf(s->o->log, fmt, ap);
    fputc('\n', s->o->log);
    va_end(ap);
}

static void fail(struct sim *s, const char *what)
{
    s->r->failed = true;
    snprintf(s->r->error, sizeof s->r->error, "%s at t=%.3f s", what, now_s(s));
    s->stop = true;
}

/* ---- the heap of datagrams in flight ---- */

static bool before(const struct pkt *a, const struct pkt *b)
{
    return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->seq < b->seq);
}

static void swap(struct pkt *a, struct pkt *b)
{
    struct pkt t = *a;
    *a = *b;
    *b = t;
}

static void heap_push(struct sim *s, const struct pkt *p)
{
    if (s->nheap == INFLIGHT_MAX) {
        fail(s, "too many datagrams in flight");
        return;
    }
    size_t i = s->nheap++;
    s->heap[i] = *p;
    s->heap[i].seq = s->seq++;
    while (i > 0 && before(&s->heap[i], &s->heap[(i - 1) / 2])) {
        swap(&s->heap[i], &s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void heap_pop(struct sim *s, struct pkt *out)
{
    *out = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < s->nheap && before(&s->heap[l], &s->heap[m])) {
            m = l;
        }
        if (l + 1 < s->nheap && before(&s->heap[l + 1], &s->heap[m])) {
            m = l + 1;
        }
        if (m == i) {
            break;
        }
        swap(&s->heap[i], &s->heap[m]);
        i = m;
    }
}

/* ---- traces ---- */

static void trace(struct sim *s, int srv, enum sim_trace_kind kind)
{
    struct sim_trace *t = &s->r->tr[srv];
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        struct sim_trace_ev *ev = realloc(t->ev, cap * sizeof *ev);
        if (!ev) {
            fail(s, "out of memory");
            return;
        }
        t->ev = ev;
        t->cap = cap;
    }
    t->ev[t->n++] = (struct sim_trace_ev){now_s(s), kind};
}

/* ---- the engine's side ---- */

static struct eng_now eng_now_(const struct sim *s)
{
    struct eng_now n;
    simclk_real(&s->clk, &n.real);
    n.mono_ns = simclk_mono_ns(&s->clk);
    return n;
}

static int server_of(const struct sim *s, const struct ntk_addr *a)
{
    for (int i = 0; i < s->spec->nservers; i++) {
        if (a->family == s->addr[i].family && memcmp(a->ip, s->addr[i].ip, 4) == 0) {
            return i;
        }
    }
    return -1;
}

static int64_t ns_of(double sec)
{
    return llround(sec * 1e9);
}

static void send_request(struct sim *s, const struct eng_action *a)
{
    int i = server_of(s, &a->remote);
    if (i < 0 || a->len > PKT_MAX) {
        logf_(s, "SEND to an unknown address or too long (%zu bytes): dropped", a->len);
        return;
    }
    trace(s, i, SIM_TR_REQUEST);
    double delay;
    if (!simnet_draw(&s->spec->servers[i].up, &s->net, &delay)) {
        return;
    }
    struct pkt p = {
        .t_ns = s->clk.t_ns + ns_of(delay), .srv = i, .to_srv = true, .len = a->len};
    memcpy(p.buf, a->pkt, a->len);
    heap_push(s, &p);
}

static const char *event_name(enum eng_event ev)
{
    static const char *const names[SIM_EVENTS] = {
        [ENG_EV_SYNC] = "SYNC",
        [ENG_EV_UNSYNC] = "UNSYNC",
        [ENG_EV_STEP] = "STEP",
        [ENG_EV_PANIC] = "PANIC",
        [ENG_EV_FREQ] = "FREQ",
        [ENG_EV_KOD] = "KOD",
        [ENG_EV_UNREACH] = "UNREACH",
        [ENG_EV_REACH] = "REACH",
        [ENG_EV_LEAP_ARMED] = "LEAP_ARMED",
        [ENG_EV_CLOCK_ERROR] = "CLOCK_ERROR",
    };
    if ((unsigned)ev >= SIM_EVENTS || !names[ev]) {
        return "?";
    }
    return names[ev];
}

static void drain(struct sim *s)
{
    struct eng_action a;
    while (eng_pop_action(s->eng, &a)) {
        switch (a.kind) {
        case ENG_ACT_SEND:
            send_request(s, &a);
            break;
        case ENG_ACT_EVENT:
            if ((unsigned)a.event < SIM_EVENTS) {
                s->r->events[a.event]++;
            }
            s->r->leap_inserts += a.event == ENG_EV_LEAP_ARMED && a.value > 0;
            logf_(s, "event %s assoc %u value %g %s", event_name(a.event), a.assoc_id, a.value,
                  a.text);
            break;
        case ENG_ACT_EXIT:
            s->r->exited = true;
            s->r->exit_status = (int)a.value;
            logf_(s, "exit %d", s->r->exit_status);
            s->stop = true;
            break;
        case ENG_ACT_RESOLVE:
            logf_(s, "resolve %s: ignored (no names here)", a.text);
            break;
        case ENG_ACT_NEED_KE:
            logf_(s, "NTS-KE with %s: ignored (no NTS here)", a.text);
            break;
        }
    }
}

/* Records the steps the last engine call made, with the engine's update count. */
static void note_steps(struct sim *s)
{
    if (s->clk.st.step == s->steps_seen) {
        return;
    }
    struct snap_system sys;
    struct snap_counters ctr;
    eng_snap(s->eng, simclk_mono_ns(&s->clk), &sys, &ctr, NULL, 0);
    for (; s->steps_seen < s->clk.st.step; s->steps_seen++) {
        if (s->steps_seen < SIMCLK_STEPS_MAX) {
            s->r->step_updates[s->steps_seen] = sys.updates;
            logf_(s, "step %+.9f s (engine updates %llu)",
                  s->clk.steps[s->steps_seen].offset_s, (unsigned long long)sys.updates);
        }
    }
}

/* ---- datagrams ---- */

static int64_t true_utc_ns(const struct sim *s)
{
    return SIM_EPOCH_UNIX_S * NS_PER_S + s->clk.t_ns - s->leaps * NS_PER_S;
}

static void at_server(struct sim *s, const struct pkt *p)
{
    struct pkt rep = {.srv = p->srv, .to_srv = false};
    struct simsrv *srv = &s->srv[p->srv];
    enum simsrv_answer ans = simsrv_answer(srv, s->clk.t_ns, true_utc_ns(s), p->buf, p->len,
                                           rep.buf, sizeof rep.buf, &rep.len);
    double delay;
    if (ans == SIMSRV_SILENT ||
        !simnet_draw(&s->spec->servers[p->srv].down, &s->net, &delay)) {
        return;
    }
    rep.kiss = ans == SIMSRV_KISS;
    rep.t_ns = s->clk.t_ns + ns_of(simsrv_proc_s(srv) + delay);
    heap_push(s, &rep);
}

static void at_client(struct sim *s, const struct pkt *p)
{
    struct eng_now now = eng_now_(s);
    trace(s, p->srv, p->kiss ? SIM_TR_KISS : SIM_TR_REPLY);
    eng_on_packet(s->eng, &now, p->buf, p->len, &s->addr[p->srv], &now.real, ENG_RX_KERNEL);
    note_steps(s);
    drain(s);
}

/* ---- the 1 s grid: metrics and wander ---- */

static uint8_t combined_mask(struct sim *s, size_t i)
{
    struct snap_assoc as[SIM_SERVERS_MAX];
    size_t n =
        eng_snap(s->eng, simclk_mono_ns(&s->clk), &s->r->sys, &s->r->ctr, as, SIM_SERVERS_MAX);
    uint8_t mask = 0;
    for (size_t k = 0; k < n && k < SIM_SERVERS_MAX; k++) {
        if (as[k].refclock &&
            (as[k].tally == SNAP_TALLY_SYSPEER || as[k].tally == SNAP_TALLY_PPSPEER)) {
            mask |= SIM_COMBINED_RC;
            continue;
        }
        int srv = server_of(s, &as[k].addr);
        if (srv >= 0 &&
            (as[k].tally == SNAP_TALLY_SYSPEER || as[k].tally == SNAP_TALLY_CANDIDATE)) {
            mask = (uint8_t)(mask | 1u << srv);
        }
    }
    int d = s->spec->drifter;
    if (d >= 0 && (mask & 1u << d)) {
        s->r->m.drifter_t_s = (double)i;
        s->r->m.drifter_off_s = simsrv_offset_s(&s->srv[d], (double)i);
    }
    return mask;
}

static void sample(struct sim *s)
{
    size_t i = (size_t)(s->clk.t_ns / NS_PER_S);
    struct sim_result *r = s->r;
    double off = simclk_offset_s(&s->clk) + s->leaps;
    /* At the leap second's own instant a clock that is behind has not reached its midnight
     * yet: the kernel inserts its second a few microseconds later. Not an error. */
    bool at_leap =
        s->spec->leap && s->clk.t_ns == s->leap_ns && s->clk.leap > 0 && !s->clk.leap_wait;
    r->offset_s[i] = at_leap ? (double)NAN : off;
    r->freq_ppm[i] = i == 0 ? (double)NAN : (s->clk.drift_s - s->prev_drift_s) * 1e6;
    s->prev_drift_s = s->clk.drift_s;
    r->synced[i] = s->clk.synced;
    r->combined[i] = combined_mask(s, i);
    r->n = i + 1;
    double w = s->spec->client.wander;
    if (w > 0) {
        simclk_add_wander(&s->clk, w * 1e6 * simrng_normal(&s->wander));
    }
    s->grid_ns += NS_PER_S;
}

/* ---- set-up ---- */

static int setup(struct sim *s)
{
    const struct sim_spec *sp = s->spec;
    size_t n = (size_t)ceil(s->o->hours * 3600.0);
    struct sim_result *r = s->r;
    r->offset_s = calloc(n + 1, sizeof *r->offset_s);
    r->freq_ppm = calloc(n + 1, sizeof *r->freq_ppm);
    r->synced = calloc(n + 1, 1);
    r->combined = calloc(n + 1, 1);
    s->heap = calloc(INFLIGHT_MAX, sizeof *s->heap);
    if (!r->offset_s || !r->freq_ppm || !r->synced || !r->combined || !s->heap) {
        return -1;
    }
    s->end_ns = (int64_t)n * NS_PER_S;
    s->leap_ns = ns_of(SIM_LEAP_AT_S);
    simrng_seed(&s->net, s->o->seed, STREAM_NET);
    simrng_seed(&s->wander, s->o->seed, STREAM_WANDER);
    simrng_seed(&s->engrng, s->o->seed, STREAM_ENGINE);
    simrng_seed(&s->rcrng, s->o->seed, STREAM_REFCLOCK);
    s->rc_ns = sp->rc.on ? NS_PER_S : INT64_MAX;
    r->rc_first_accept_s = (double)NAN;
    r->rc_last_refuse_s = (double)NAN;
    s->erng = (struct eng_rng){&s->engrng, simrng_bytes};
    struct simclk_cfg cc = {.epoch_unix_ns = SIM_EPOCH_UNIX_S * NS_PER_S,
                            .mono_start_ns = 1000 * NS_PER_S,
                            .offset_s = sp->client.offset_s,
                            .freq_ppm = sp->client.freq_ppm};
    simclk_init(&s->clk, &cc);
    simclk_ops(&s->clk, &s->ops);
    r->m.drifter_off_s = (double)NAN;
    r->m.drifter_t_s = (double)NAN;
    return 0;
}

static int start_engine(struct sim *s)
{
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = s->spec->observe;
    struct eng_now now = eng_now_(s);
    s->eng = eng_new(&cfg, &s->ops, &s->erng, NULL, &now);
    if (!s->eng) {
        return -1;
    }
    for (int i = 0; i < s->spec->nservers; i++) {
        simsrv_init(&s->srv[i], &s->spec->servers[i].srv);
        uint8_t ip[4] = {192, 0, 2, (uint8_t)(10 + i)};
        ntk_addr_set_v4(&s->addr[i], ip, 123);
        struct eng_server_cfg sc;
        eng_server_defaults(&sc);
        sc.addr = s->addr[i];
        sc.iburst = true;
        sc.prefer = s->spec->servers[i].prefer;
        if (eng_add_server(s->eng, &sc, &now) < 1) {
            return -1;
        }
    }
    if (s->spec->rc.on) {
        struct eng_refclock_cfg rc;
        eng_refclock_defaults(&rc, s->spec->rc.type, 0);
        int id = eng_add_refclock(s->eng, &rc, &now);
        if (id < 1) {
            return -1;
        }
        s->r->rc_id = (uint32_t)id;
    }
    drain(s);
    return 0;
}

/* ---- the reference clock ---- */

static struct timespec ts_of_ns(int64_t ns)
{
    int64_t sec = ns / NS_PER_S, rem = ns % NS_PER_S;
    if (rem < 0) {
        sec--;
        rem += NS_PER_S;
    }
    return (struct timespec){.tv_sec = (time_t)sec, .tv_nsec = (long)rem};
}

/* One sample at a whole true second: the local clock read then (with the receiver's
 * noise), and for SHM / SOCK the reference's time of the event. */
static void rc_sample(struct sim *s)
{
    const struct sim_refclock_spec *rc = &s->spec->rc;
    s->rc_ns += NS_PER_S;
    if (now_s(s) < rc->silent_to_s) {
        return;
    }
    struct eng_now now = eng_now_(s);
    int64_t local_ns = (int64_t)now.real.tv_sec * NS_PER_S + now.real.tv_nsec;
    struct eng_rc_sample x;
    memset(&x, 0, sizeof x);
    x.local = ts_of_ns(local_ns + ns_of(rc->jitter_s * simrng_normal(&s->rcrng)));
    if (rc->type != ENG_RC_PPS) {
        x.ref = ts_of_ns(true_utc_ns(s) + ns_of(rc->offset_s));
    }
    x.leap = NTK_LEAP_NONE;
    int ret = eng_on_refclock_sample(s->eng, s->r->rc_id, &x, &now);
    if (ret == 0) {
        s->r->rc_accepted++;
        if (isnan(s->r->rc_first_accept_s)) {
            s->r->rc_first_accept_s = now_s(s);
        }
    } else {
        s->r->rc_refused++;
        s->r->rc_last_refuse_s = now_s(s);
    }
    note_steps(s);
    drain(s);
}

/* ---- the loop ---- */

static void on_timer(struct sim *s)
{
    int64_t dl = eng_next_deadline(s->eng);
    if (simclk_mono_ns(&s->clk) < dl) {
        return; /* mapped a hair early by rounding: the next pass maps it again */
    }
    struct eng_now now = eng_now_(s);
    eng_on_timer(s->eng, &now);
    note_steps(s);
    drain(s);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Handles the earliest event; at equal times: the true leap second, datagrams, the
 * engine's timer, the clock's own events (done by simclk_advance), then the grid. */
static void step_once(struct sim *s)
{
    int64_t t_leap = s->spec->leap && s->leaps == 0 ? s->leap_ns : INT64_MAX;
    int64_t t_pkt = s->nheap ? s->heap[0].t_ns : INT64_MAX;
    int64_t t_tmr = simclk_true_at_mono(&s->clk, eng_next_deadline(s->eng));
    int64_t t_clk = simclk_next_event(&s->clk);
    int64_t t = min64(min64(t_leap, t_pkt), min64(min64(t_tmr, t_clk), s->grid_ns));
    t = min64(t, s->rc_ns);
    if (t >= s->end_ns) {
        s->stop = true;
        return;
    }
    simclk_advance(&s->clk, t);
    if (t == t_leap) {
        s->leaps++;
        logf_(s, "true UTC inserts a leap second");
    } else if (t == t_pkt) {
        struct pkt p;
        heap_pop(s, &p);
        p.to_srv ? at_server(s, &p) : at_client(s, &p);
    } else if (t == s->rc_ns) {
        rc_sample(s);
    } else if (t == t_tmr) {
        on_timer(s);
    } else if (t == s->grid_ns) {
        sample(s);
    }
}

static void run_loop(struct sim *s)
{
    int64_t last = -1;
    unsigned same = 0;
    while (!s->stop) {
        step_once(s);
        same = s->clk.t_ns == last ? same + 1 : 0;
        last = s->clk.t_ns;
        if (same > FUSE_MAX) {
            fail(s, "no progress: the engine's deadline does not move");
        }
    }
}

/* ---- summary ---- */

static bool in(double t, double from, double to)
{
    return t >= from && t < to;
}

double sim_rms_offset(const struct sim_result *r, double from_s, double to_s)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (in((double)i, from_s, to_s) && !isnan(r->offset_s[i])) {
            sum += r->offset_s[i] * r->offset_s[i];
            k++;
        }
    }
    return k ? sqrt(sum / (double)k) : 0.0;
}

double sim_max_offset(const struct sim_result *r, double from_s, double to_s)
{
    double m = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (in((double)i, from_s, to_s) && fabs(r->offset_s[i]) > m) {
            m = fabs(r->offset_s[i]);
        }
    }
    return m;
}

double sim_settle(const struct sim_result *r, double thr_s, double from_s)
{
    double t = from_s;
    for (size_t i = 0; i < r->n; i++) {
        if ((double)i >= from_s && fabs(r->offset_s[i]) > thr_s) {
            t = (double)(i + 1);
        }
    }
    return r->n == 0 || t >= (double)r->n ? -1.0 : t;
}

size_t sim_requests(const struct sim_result *r, int i, double from_s, double to_s)
{
    size_t k = 0;
    for (size_t j = 0; j < r->tr[i].n; j++) {
        k += r->tr[i].ev[j].kind == SIM_TR_REQUEST && in(r->tr[i].ev[j].t_s, from_s, to_s);
    }
    return k;
}

static double rms_freq(const struct sim_result *r, double from_s)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if ((double)i >= from_s && !isnan(r->freq_ppm[i])) {
            sum += r->freq_ppm[i] * r->freq_ppm[i];
            k++;
        }
    }
    return k ? sqrt(sum / (double)k) : 0.0;
}

static void summarize(const struct sim *s)
{
    struct sim_result *r = s->r;
    double end = (double)r->n;
    double from = end > SIM_WARMUP_S ? SIM_WARMUP_S : 0.0;
    r->m.rms_offset_s = sim_rms_offset(r, from, end);
    r->m.max_offset_s = sim_max_offset(r, from, end);
    r->m.rms_freq_ppm = rms_freq(r, from);
    r->m.settle_1ms_s = sim_settle(r, 1e-3, 0.0);
    r->m.settle_100us_s = sim_settle(r, 1e-4, 0.0);
    size_t synced = 0;
    for (size_t i = (size_t)from; i < r->n; i++) {
        synced += r->synced[i];
    }
    r->m.synced_frac = end > from ? (double)synced / (end - from) : 0.0;
    size_t rc_peer = 0;
    for (size_t i = (size_t)from; i < r->n; i++) {
        rc_peer += (r->combined[i] & SIM_COMBINED_RC) != 0;
    }
    r->m.rc_peer_frac = end > from ? (double)rc_peer / (end - from) : 0.0;
    bool steady = end > SIM_WARMUP_S;
    r->m.pkts_per_day = steady ? 0.0 : (double)NAN;
    for (int i = 0; i < s->spec->nservers; i++) {
        if (steady) {
            double per_day = (double)sim_requests(r, i, from, end) * 86400.0 / (end - from);
            r->m.pkts_per_day = fmax(r->m.pkts_per_day, per_day);
        }
        r->srv[i] = s->srv[i].st;
    }
    r->clk = s->clk.st;
    r->m.steps = s->clk.st.step;
    memcpy(r->steps, s->clk.steps, sizeof r->steps);
}

int sim_run(const struct sim_spec *spec, const struct sim_opts *o, struct sim_result *r)
{
    static struct sim zero;
    struct sim *s = malloc(sizeof *s);
    if (!s) {
        return -1;
    }
    *s = zero;
    memset(r, 0, sizeof *r);
    s->spec = spec;
    s->o = o;
    s->r = r;
    bool sources = spec->nservers >= 1 || spec->rc.on;
    if (!sources || spec->nservers < 0 || spec->nservers > SIM_SERVERS_MAX || setup(s) != 0) {
        fail(s, "bad scenario or out of memory");
    } else if (start_engine(s) != 0) {
        fail(s, "eng_new or eng_add_server failed");
    } else {
        run_loop(s);
        if (s->eng) {
            eng_snap(s->eng, simclk_mono_ns(&s->clk), &r->sys, &r->ctr, r->assoc,
                     SIM_SERVERS_MAX);
        }
    }
    summarize(s);
    eng_free(s->eng);
    free(s->heap);
    free(s);
    return r->failed ? -1 : 0;
}

void sim_result_free(struct sim_result *r)
{
    free(r->offset_s);
    free(r->freq_ppm);
    free(r->synced);
    free(r->combined);
    for (int i = 0; i < SIM_SERVERS_MAX; i++) {
        free(r->tr[i].ev);
    }
    memset(r, 0, sizeof *r);
}

void sim_write_csv(const struct sim_result *r, const char *name, FILE *f, bool header)
{
    if (header) {
        fprintf(f, "scenario,t_s,offset_s,freq_ppm,synced,combined\n");
    }
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "%s,%zu,%.9e,%.6f,%u,%u\n", name, i, r->offset_s[i], r->freq_ppm[i],
                r->synced[i], r->combined[i]);
    }
}
