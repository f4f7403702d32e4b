/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test: ntpcap's analyzer core on every capture in tests/data, read with libpcap as
 * the program reads it, against tshark 4.0's decoding of the same files (the .tsv beside
 * each): every decoded field of every NTP packet, and the number of exchanges per file equal
 * to what tshark's two-pass analysis pairs (`tshark -2 -r F -Y ntp.response_in`).
 * How tshark prints each field is described in golden_pkt.c and tests/data/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "cap.h"
#include "cap_decode.h"
#include "ntk/ntime.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

enum { MAX_FRAMES = 128, MAX_TEXT = 4096 };

/* What one capture gave: each frame's packet and payload. */
struct run {
    struct cap_pkt pkt[MAX_FRAMES + 1]; /* by frame number */
    bool have[MAX_FRAMES + 1];
    uint8_t payload[MAX_FRAMES + 1][2048];
    size_t payload_len[MAX_FRAMES + 1];
    uint64_t exchanges, resp_bytes_m6[16];
    unsigned n_m6, frags_m6[16];
    int nframes;
    struct cap_stats st;
};

static void on_packet(void *ctx, const struct cap_pkt *p)
{
    struct run *r = ctx;
    assert_true(p->frame >= 1 && p->frame <= MAX_FRAMES);
    r->pkt[p->frame] = *p;
    r->have[p->frame] = true;
}

static void on_exchange(void *ctx, const struct cap_exch *x)
{
    struct run *r = ctx;
    r->exchanges++;
    if (x->kind == CAP_X_CONTROL && r->n_m6 < 16) {
        r->resp_bytes_m6[r->n_m6] = x->resp_bytes;
        r->frags_m6[r->n_m6++] = x->resp_frags;
    }
}

static void on_anomaly(void *ctx, const struct cap_anom *a)
{
    (void)ctx;
    print_message("anomaly %s %s frame %llu: %s\n", cap_sev_name(a->sev), a->code,
                  (unsigned long long)a->frame, a->detail);
}

static void on_flow(void *ctx, const struct cap_flow *f)
{
    (void)ctx;
    char a[NTK_ADDRSTR_MAX], b[NTK_ADDRSTR_MAX];
    print_message("flow %s -> %s: %llu/%llu pkts, %llu exch, auth %s, poll %.3f, delay med "
                  "%.6f, offset med %.6f, amp %.2f\n",
                  ntk_addr_format(&f->client, a), ntk_addr_format(&f->server, b),
                  (unsigned long long)f->pkts_c2s, (unsigned long long)f->pkts_s2c,
                  (unsigned long long)f->exchanges, f->auth, f->poll_s, f->delay_med_s,
                  f->offset_med_s, f->amplification);
}

static struct run *run_pcap(const char *name)
{
    char path[512], err[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s.pcap", NTK_TEST_DATA_DIR, name);
    pcap_t *pc =
        pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) {
        fail_msg("%s: %s", path, err);
    }
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    struct cap_sink sink = {.ctx = r,
                            .packet = on_packet,
                            .exchange = on_exchange,
                            .anomaly = on_anomaly,
                            .flow = on_flow};
    struct cap *c = cap_new(&cfg, &sink);
    assert_non_null(c);
    int link = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        int f = ++r->nframes;
        assert_true(f <= MAX_FRAMES);
        cap_feed(c, link, data, h->caplen, h->len, (int64_t)h->ts.tv_sec,
                 (uint32_t)h->ts.tv_usec);
        struct cap_pkt p;
        struct cap_dec d;
        if (cap_decode_frame(link, data, h->caplen, h->len, &p, &d) == CAP_NTP) {
            assert_true(d.payload_len <= sizeof r->payload[f]);
            memcpy(r->payload[f], d.payload, d.payload_len);
            r->payload_len[f] = d.payload_len;
        }
    }
    pcap_close(pc);
    cap_finish(c);
    r->st = *cap_stats(c);
    cap_destroy(c);
    return r;
}

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 0);
    assert_true(*s != '\0' && (*end == '\0' || *end == ','));
    return v;
}

/* tshark's text for an NTP timestamp (golden_pkt.c explains the rules). */
static void tshark_time(ntk_ts ts, char *out, size_t cap)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    uint32_t sec = ntk_ts_sec(ts);
    int ns = (int)(((uint64_t)ntk_ts_frac(ts) * 1000000000u) >> 32);
    if (sec == 0 && ns == 0) {
        snprintf(out, cap, "NULL");
        return;
    }
    int64_t unix_s = (sec & 0x80000000u) ? (int64_t)sec - NTK_NTP_UNIX_OFFSET_S
                                         : (int64_t)sec + NTK_ERA_S - NTK_NTP_UNIX_OFFSET_S;
    struct ntk_civil c;
    ntk_civil_from_unix(unix_s, &c);
    snprintf(out, cap, "%s %2d, %lld %02d:%02d:%02d.%09d UTC", mon[c.mon - 1], c.mday,
             (long long)c.year, c.hour, c.min, c.sec, ns);
}

static void hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && k + 3 <= cap; i++) {
        k += (size_t)snprintf(out + k, cap - k, "%02x", p[i]);
    }
}

static void check_addr(const char *want_ip, const char *want_port, const struct ntk_addr *a)
{
    struct ntk_addr ip = *a;
    ip.port = 0;
    char buf[NTK_ADDRSTR_MAX];
    assert_string_equal(want_ip, ntk_addr_format(&ip, buf));
    assert_int_equal(num(want_port), a->port);
}

static void check_times(const struct tsv *t, const char **c, const struct ntk_pkt *h)
{
    const char *names[] = {"ntp.reftime", "ntp.org", "ntp.rec", "ntp.xmt"};
    const ntk_ts ts[] = {h->reftime, h->org, h->rec, h->xmt};
    char want[128];
    for (int i = 0; i < 4; i++) {
        tshark_time(ts[i], want, sizeof want);
        assert_string_equal(c[tsv_col(t, names[i])], want);
    }
}

/* Extension fields and MAC as tshark prints them. */
static void check_trailer(const struct tsv *t, const char **c, const struct run *r, int f)
{
    const struct cap_pkt *p = &r->pkt[f];
    char types[MAX_TEXT] = "", lens[MAX_TEXT] = "", text[MAX_TEXT];
    size_t kt = 0, kl = 0;
    assert_true(p->n_ef <= 8);
    for (size_t i = 0; i < p->n_ef; i++) {
        kt += (size_t)snprintf(types + kt, sizeof types - kt, "%s0x%04x", i ? "," : "",
                               p->ef_types[i]);
        kl +=
            (size_t)snprintf(lens + kl, sizeof lens - kl, "%s%u", i ? "," : "", p->ef_lens[i]);
    }
    assert_string_equal(c[tsv_col(t, "ntp.ext.type")], types);
    assert_string_equal(c[tsv_col(t, "ntp.ext.length")], lens);
    const char *keyid = c[tsv_col(t, "ntp.keyid")];
    if (*keyid == '\0') {
        assert_true(p->mac_len == 0 || p->mac_len == 4);
        return;
    }
    assert_true(p->mac_len == 20 || p->mac_len == 24);
    snprintf(text, sizeof text, "%08x", p->keyid);
    assert_string_equal(keyid, text);
    hex(r->payload[f] + p->payload_len - p->mac_len + 4, p->mac_len - 4, text, sizeof text);
    assert_string_equal(c[tsv_col(t, "ntp.mac")], text);
}

static void check_row(const struct tsv *t, const char **c, const struct run *r)
{
    int f = (int)num(c[tsv_col(t, "frame.number")]);
    assert_true(f >= 1 && f <= r->nframes && r->have[f]);
    const struct cap_pkt *p = &r->pkt[f];
    char text[MAX_TEXT];
    assert_int_equal(p->what, CAP_NTP);
    check_addr(c[tsv_col(t, "ip.src")], c[tsv_col(t, "udp.srcport")], &p->src);
    check_addr(c[tsv_col(t, "ip.dst")], c[tsv_col(t, "udp.dstport")], &p->dst);
    hex(r->payload[f], r->payload_len[f], text, sizeof text);
    assert_string_equal(c[tsv_col(t, "udp.payload")], text);
    assert_int_equal(p->payload_len, r->payload_len[f]);
    assert_int_equal(num(c[tsv_col(t, "ntp.flags.li")]), p->leap);
    assert_int_equal(num(c[tsv_col(t, "ntp.flags.vn")]), p->version);
    assert_int_equal(num(c[tsv_col(t, "ntp.flags.mode")]), p->mode);
    assert_true(p->decoded);
    if (p->mode == 6) {
        return; /* mode-6 header fields: mode6_ctrl */
    }
    const struct ntk_pkt *h = &p->hdr;
    assert_int_equal(num(c[tsv_col(t, "ntp.stratum")]), h->stratum);
    assert_int_equal(p->stratum, h->stratum);
    assert_int_equal(num(c[tsv_col(t, "ntp.ppoll")]), (uint8_t)h->poll_log2);
    assert_int_equal(num(c[tsv_col(t, "ntp.precision")]), (uint8_t)h->precision_log2);
    assert_int_equal(num(c[tsv_col(t, "ntp.rootdelay")]), h->root_delay);
    assert_int_equal(num(c[tsv_col(t, "ntp.rootdispersion")]), h->root_disp);
    snprintf(text, sizeof text, "%08x", h->refid);
    assert_string_equal(c[tsv_col(t, "ntp.refid")], text);
    check_times(t, c, h);
    check_trailer(t, c, r, f);
}

/* Checks every row of NAME.tsv; returns the rows and the exchanges. */
static struct run *check_file(const char *name, int rows, uint64_t exchanges)
{
    struct run *r = run_pcap(name);
    struct tsv t;
    const char *c[TSV_MAX_COLS];
    int n = 0;
    tsv_open(&t, name);
    while (tsv_next(&t, c)) {
        check_row(&t, c, r);
        n++;
    }
    tsv_close(&t);
    assert_int_equal(n, rows);
    assert_int_equal(r->st.ntp, (uint64_t)rows);
    assert_int_equal(r->st.frames, (uint64_t)r->nframes);
    assert_int_equal(r->st.frames, r->st.ntp + r->st.ntske + r->st.other + r->st.truncated +
                                       r->st.malformed);
    assert_int_equal(r->st.undecoded, 0);
    assert_int_equal(r->exchanges, exchanges);
    assert_int_equal(r->st.exchanges, exchanges);
    return r;
}

/* Expected exchanges: tshark -2 -r F -Y ntp.response_in -T fields -e frame.number | wc -l */
static void sntp_chrony(void **state)
{
    (void)state;
    free(check_file("sntp-chrony", 32, 16));
}

static void client_server_ntpsec(void **state)
{
    (void)state;
    free(check_file("client-server-ntpsec", 16, 8));
}

static void symkey(void **state)
{
    (void)state;
    struct run *r = check_file("symkey", 46, 21);
    assert_int_equal(r->st.unmatched_req, 46 - 2 * 21);
    free(r);
}

static void kod(void **state)
{
    (void)state;
    struct run *r = check_file("kod", 17, 7);
    int kods = 0;
    for (int f = 1; f <= r->nframes; f++) {
        if (r->have[f] && r->pkt[f].kiss[0]) {
            assert_string_equal(r->pkt[f].kiss, "RATE");
            kods++;
        }
    }
    assert_true(kods > 0);
    free(r);
}

static void nts(void **state)
{
    (void)state;
    struct run *r = check_file("nts", 18, 9);
    assert_int_equal(r->st.ntske, 56 - 18);
    assert_int_equal(r->st.other, 0);
    free(r);
}

static void nts_ntpsec_client(void **state)
{
    (void)state;
    struct run *r = check_file("nts-ntpsec-client", 14, 7);
    assert_int_equal(r->st.ntske, 32 - 14);
    free(r);
}

/* mode6.tsv for the common columns, mode6-ctrl.tsv for every ntp.ctrl.* header field, and
 * the multi-fragment responses reassembled into one exchange each. */
static void mode6(void **state)
{
    (void)state;
    struct run *r = check_file("mode6", 30, 12);
    struct tsv t;
    const char *c[TSV_MAX_COLS];
    int n = 0;
    tsv_open(&t, "mode6-ctrl");
    while (tsv_next(&t, c)) {
        int f = (int)num(c[tsv_col(&t, "frame.number")]);
        const struct cap_pkt *p = &r->pkt[f];
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.flags2.r")]), p->m6_response);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.flags2.error")]), p->m6_error);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.flags2.more")]), p->m6_more);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.flags2.opcode")]), p->m6_opcode);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.sequence")]), p->m6_seq);
        /* Status is multi-valued for READSTAT (tshark adds the data's words): the first. */
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.status")]), p->m6_status);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.associd")]), p->m6_associd);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.offset")]), p->m6_offset);
        assert_int_equal(num(c[tsv_col(&t, "ntp.ctrl.count")]), p->m6_count);
        assert_int_equal(num(c[tsv_col(&t, "udp.length")]), p->payload_len + 8);
        n++;
    }
    tsv_close(&t);
    assert_int_equal(n, 30);
    /* Exchanges in order: rv, peers, rv &1 (2 frags), cv (2), sysstats (2), ... */
    assert_int_equal(r->n_m6, 12);
    unsigned frags[12] = {1, 1, 2, 2, 2, 1, 1, 2, 1, 3, 1, 1};
    for (int i = 0; i < 12; i++) {
        assert_int_equal(r->frags_m6[i], frags[i]);
    }
    /* The READ_MRU response: frames 24-26, 12 + 466 (+2 pad) ... bytes on the wire. */
    assert_int_equal(r->resp_bytes_m6[9],
                     r->payload_len[24] + r->payload_len[25] + r->payload_len[26]);
    /* The REQ_NONCE request / READ_MRU with nonce: m6_nonce set on both. */
    assert_true(r->pkt[21].m6_nonce);
    assert_true(r->pkt[23].m6_nonce);
    assert_false(r->pkt[1].m6_nonce);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sntp_chrony), cmocka_unit_test(client_server_ntpsec),
        cmocka_unit_test(symkey),      cmocka_unit_test(kod),
        cmocka_unit_test(nts),         cmocka_unit_test(nts_ntpsec_client),
        cmocka_unit_test(mode6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
