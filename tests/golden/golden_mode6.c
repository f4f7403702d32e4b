/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test for lib/ctl.c and lib/ctlvars.c: every mode-6 datagram of the ntpq <-> NTPsec
 * 1.2.2 capture (tests/data/mode6.tsv) decodes to the header fields tshark printed in
 * mode6-ctrl.tsv, the 4 MACs verify with symkey.keys as mode6-macs.txt says, the multi-
 * fragment responses reassemble (in capture order and reversed), and their variable lists
 * parse to the exact values and re-format byte for byte as NTPsec wrote them.
 *
 * How tshark 4.0 prints ntp.ctrl.*: flags as 0/1, opcode/sequence/associd/offset/count in
 * decimal, status as "0x%04x"; for a READSTAT response it appends one status/associd (and
 * peer_status.*) value per (associd, status) pair of the data, comma-joined after the
 * header's; the status word is split as sys_status (associd 0), peer_status (associd != 0)
 * or clock_status (READCLOCK), and err_status for an error response; it splits the system
 * status only for READSTAT and READVAR, and shows ntp.key_index only when the MAC sits
 * where NTPsec pads to 8 (not for frame 30, an error response with the MAC at byte 12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/ctl.h"
#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/tok.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

enum { NFRAMES = 30, MAX_KEYS = 8 };

/* One captured datagram and tshark's ntp.ctrl.* columns for it (borrowed from the tsv). */
struct frame {
    uint8_t p[NTK_CTL_DATAGRAM_MAX];
    size_t len;
    unsigned port; /* the client's UDP port: the exchange it belongs to */
    const char *col[TSV_MAX_COLS];
};

static struct frame frames[NFRAMES + 1]; /* frames[n] is frame n */
static struct tsv ctrl_tsv;

static int col(const char *name)
{
    return tsv_col(&ctrl_tsv, name);
}

/* The i-th comma-joined value of column name in frame f ("" when absent). */
static const char *field(const struct frame *f, const char *name, int i, char *buf, size_t cap)
{
    const char *s = f->col[col(name)];
    for (; i > 0 && s != NULL; i--) {
        s = strchr(s, ',');
        s = s ? s + 1 : NULL;
    }
    if (s == NULL) {
        buf[0] = '\0';
        return buf;
    }
    size_t n = strcspn(s, ",");
    assert_true(n < cap);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static long num_field(const struct frame *f, const char *name, int i)
{
    char buf[64];
    field(f, name, i, buf, sizeof buf);
    char *end;
    long v = strtol(buf, &end, 0);
    if (buf[0] == '\0' || *end != '\0') {
        fail_msg("%s of frame %s: '%s'", name, f->col[0], buf);
    }
    return v;
}

static bool has_field(const struct frame *f, const char *name)
{
    return f->col[col(name)][0] != '\0';
}

static int load(void **state)
{
    (void)state;
    tsv_open(&ctrl_tsv, "mode6-ctrl");
    const char *c[TSV_MAX_COLS];
    unsigned n = 0;
    while (tsv_next(&ctrl_tsv, c)) {
        n++;
        assert_true(n <= NFRAMES);
        struct frame *f = &frames[n];
        memcpy(f->col, c, sizeof f->col);
        assert_int_equal(num_field(f, "frame.number", 0), n);
        int got = tu_unhex(c[col("udp.payload")], f->p, sizeof f->p);
        assert_true(got >= 12);
        f->len = (size_t)got;
        bool to_server = num_field(f, "udp.dstport", 0) == 123;
        f->port = (unsigned)num_field(f, to_server ? "udp.srcport" : "udp.dstport", 0);
    }
    assert_int_equal(n, NFRAMES);
    /* mode6.tsv holds the same payloads. */
    struct tsv t;
    tsv_open(&t, "mode6");
    int pay = tsv_col(&t, "udp.payload");
    n = 0;
    while (tsv_next(&t, c)) {
        n++;
        assert_string_equal(c[pay], frames[n].col[col("udp.payload")]);
    }
    assert_int_equal(n, NFRAMES);
    tsv_close(&t);
    return 0;
}

static int unload(void **state)
{
    (void)state;
    tsv_close(&ctrl_tsv);
    return 0;
}

/* Counts of status words compared, so the test cannot pass by skipping them. */
static struct {
    unsigned sys, peer, clock, error;
} checked;

static struct ntk_ctl_msg decode(unsigned n)
{
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(frames[n].p, frames[n].len, &m), NTK_OK);
    return m;
}

/* ---- header fields ------------------------------------------------------------------ */

static void check_status_fields(const struct frame *f, const struct ntk_ctl_msg *m)
{
    const struct ntk_ctl_hdr *h = &m->hdr;
    if (h->error) {
        assert_int_equal(num_field(f, "ntp.ctrl.err_status", 0), ntk_ctl_err_code(h->status));
        checked.error++;
    } else if (h->opcode == NTK_CTL_OP_READCLOCK) {
        assert_int_equal(num_field(f, "ntp.ctrl.clock_status.status", 0), h->status >> 8);
        assert_int_equal(num_field(f, "ntp.ctrl.clock_status.code", 0), h->status & 0xff);
        checked.clock++;
    } else if (h->associd == 0 && has_field(f, "ntp.ctrl.sys_status.li")) {
        /* tshark splits the system status word for READSTAT and READVAR only. */
        assert_true(h->opcode == NTK_CTL_OP_READSTAT || h->opcode == NTK_CTL_OP_READVAR);
        struct ntk_ctl_sys_status s;
        ntk_ctl_sys_status_unpack(h->status, &s);
        assert_int_equal(num_field(f, "ntp.ctrl.sys_status.li", 0), s.leap);
        assert_int_equal(num_field(f, "ntp.ctrl.sys_status.clksrc", 0), s.source);
        assert_int_equal(num_field(f, "ntp.ctrl.sys_status.count", 0), s.nevents);
        assert_int_equal(num_field(f, "ntp.ctrl.sys_status.code", 0), s.event);
        checked.sys++;
    }
}

/* Peer status fields: index i of tshark's lists, from status word w. */
static void check_peer_fields(const struct frame *f, int i, uint16_t w)
{
    struct ntk_ctl_peer_status p;
    ntk_ctl_peer_status_unpack(w, &p);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.config", i),
                     (p.flags & NTK_CTL_PST_CONFIG) != 0);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.authenable", i),
                     (p.flags & NTK_CTL_PST_AUTHENABLE) != 0);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.authentic", i),
                     (p.flags & NTK_CTL_PST_AUTHENTIC) != 0);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.reach", i),
                     (p.flags & NTK_CTL_PST_REACH) != 0);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.bcast", i),
                     (p.flags & NTK_CTL_PST_BCAST) != 0);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.selection", i), p.sel);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.count", i), p.nevents);
    assert_int_equal(num_field(f, "ntp.ctrl.peer_status.code", i), p.event);
    checked.peer++;
}

/* READSTAT data: tshark lists each pair after the header's values. */
static void check_readstat_pairs(const struct frame *f, const struct ntk_ctl_msg *m)
{
    size_t pos = 0;
    uint16_t id, st;
    int i = 0, rc;
    while ((rc = ntk_ctl_assoc_next(m->data, m->hdr.count, &pos, &id, &st)) == 1) {
        i++;
        assert_int_equal(num_field(f, "ntp.ctrl.associd", i), id);
        assert_int_equal(num_field(f, "ntp.ctrl.status", i), st);
        check_peer_fields(f, i - 1, st);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, 2);
}

static void check_frame(unsigned n)
{
    const struct frame *f = &frames[n];
    struct ntk_ctl_msg m = decode(n);
    const struct ntk_ctl_hdr *h = &m.hdr;
    assert_int_equal(num_field(f, "udp.length", 0), f->len + 8);
    assert_int_equal(num_field(f, "ntp.flags.li", 0), h->leap);
    assert_int_equal(num_field(f, "ntp.flags.vn", 0), h->version);
    assert_int_equal(num_field(f, "ntp.flags.mode", 0), 6);
    assert_int_equal(num_field(f, "ntp.ctrl.flags2.r", 0), h->response);
    assert_int_equal(num_field(f, "ntp.ctrl.flags2.error", 0), h->error);
    assert_int_equal(num_field(f, "ntp.ctrl.flags2.more", 0), h->more);
    assert_int_equal(num_field(f, "ntp.ctrl.flags2.opcode", 0), h->opcode);
    assert_int_equal(num_field(f, "ntp.ctrl.sequence", 0), h->sequence);
    assert_int_equal(num_field(f, "ntp.ctrl.status", 0), h->status);
    assert_int_equal(num_field(f, "ntp.ctrl.associd", 0), h->associd);
    assert_int_equal(num_field(f, "ntp.ctrl.offset", 0), h->offset);
    assert_int_equal(num_field(f, "ntp.ctrl.count", 0), h->count);
    /* tshark finds a MAC only where NTPsec pads to 8; frame 30 has it at 12 (P4). */
    assert_int_equal(has_field(f, "ntp.key_index"), m.has_mac && n != 30);
    if (h->response) {
        check_status_fields(f, &m);
    }
    if (h->response && h->associd != 0 && !h->error && h->opcode != NTK_CTL_OP_READCLOCK) {
        check_peer_fields(f, 0, h->status);
    }
    if (h->response && h->opcode == NTK_CTL_OP_READSTAT) {
        check_readstat_pairs(f, &m);
    }
}

static void headers_match_tshark(void **state)
{
    (void)state;
    unsigned requests = 0, more = 0;
    for (unsigned n = 1; n <= NFRAMES; n++) {
        check_frame(n);
        struct ntk_ctl_msg m = decode(n);
        requests += !m.hdr.response;
        more += m.hdr.more;
    }
    assert_int_equal(requests, 12);
    /* How often each kind of status word was compared with tshark's split. */
    assert_int_equal(checked.sys, 5);   /* frames 2, 4, 17, 19, 20 */
    assert_int_equal(checked.peer, 8);  /* 6, 7, 9, 10, 12, 13 + frame 4's 2 pairs */
    assert_int_equal(checked.clock, 1); /* 15 */
    assert_int_equal(checked.error, 1); /* 30 */
    assert_int_equal(more, 6);          /* frames 6, 9, 12, 19, 24 and 25 */
}

/* ---- MACs --------------------------------------------------------------------------- */

static struct ntk_mac_keys *load_keys(void)
{
    size_t len;
    char *text = tu_read_data("symkey.keys", &len);
    struct ntk_mac_key keys[MAX_KEYS];
    struct ntk_keyfile_diag diags[4];
    struct ntk_keyfile kf;
    ntk_keyfile_init(&kf, keys, MAX_KEYS, diags, 4);
    assert_int_equal(ntk_keyfile_parse(&kf, text, len), NTK_OK);
    assert_int_equal(kf.nkeys, 3);
    memset(text, 0, len);
    free(text);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(keys, kf.nkeys, &ks), NTK_OK);
    ntk_mac_key_wipe(keys, MAX_KEYS);
    return ks;
}

static void macs_verify(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = load_keys();
    /* mode6-macs.txt: frames 27/28 key 3 (AES), 29/30 key 2 (SHA1); the rest no MAC. */
    static const uint32_t want_key[NFRAMES + 1] = {[27] = 3, [28] = 3, [29] = 2, [30] = 2};
    for (unsigned n = 1; n <= NFRAMES; n++) {
        struct ntk_ctl_msg m = decode(n);
        assert_int_equal(m.has_mac, want_key[n] != 0);
        uint32_t keyid = 0;
        int rc = ntk_ctl_verify(ks, frames[n].p, frames[n].len, &m, &keyid);
        assert_int_equal(rc, want_key[n] ? NTK_OK : NTK_EAUTH);
        assert_int_equal(keyid, want_key[n]);
        if (want_key[n] && n != 30) {
            char buf[64];
            assert_int_equal(
                strtoul(field(&frames[n], "ntp.key_index", 0, buf, sizeof buf), NULL, 16),
                keyid);
        }
    }
    /* Frame 30 (the error response) has its MAC right after the header, not at 16. */
    assert_int_equal(frames[30].len, 12 + 4 + 20);
    /* Frame 28's padding is not zero (NTPsec leftovers), and it is covered by the MAC. */
    assert_int_equal(frames[28].p[12 + 125 + 3], 3);
    frames[28].p[12 + 125 + 3] = 0;
    struct ntk_ctl_msg m = decode(28);
    assert_int_equal(ntk_ctl_verify(ks, frames[28].p, frames[28].len, &m, NULL), NTK_EAUTH);
    frames[28].p[12 + 125 + 3] = 3;
    ntk_mac_keys_free(ks);
}

/* ---- reassembly and variable lists -------------------------------------------------- */

/* The response to request frame req, reassembled from the frames that follow it in the
 * same exchange (forwards or backwards). Returns the number of fragments used. */
static size_t reassemble(unsigned req, bool backwards, uint8_t *buf, size_t cap,
                         struct ntk_ctl_reasm *r)
{
    struct ntk_ctl_msg q = decode(req);
    ntk_ctl_reasm_init(r, buf, cap, q.hdr.opcode, q.hdr.sequence);
    unsigned span[8], k = 0;
    for (unsigned n = req + 1; n <= NFRAMES && frames[n].port == frames[req].port; n++) {
        struct ntk_ctl_msg m = decode(n);
        if (!m.hdr.response) {
            break;
        }
        assert_true(k < 8);
        span[k++] = n;
    }
    size_t used = 0;
    for (unsigned i = 0; i < k; i++) {
        struct ntk_ctl_msg m = decode(backwards ? span[k - 1 - i] : span[i]);
        int rc = ntk_ctl_reasm_feed(r, &m);
        used++;
        assert_int_equal(rc, i + 1 == k ? NTK_CTL_FEED_DONE : NTK_CTL_FEED_MORE);
    }
    return used;
}

/* Reassembles and checks the fragment count; returns the text. */
static const char *response_text(unsigned req, size_t frags, size_t *len)
{
    static uint8_t buf[2][NTK_CTL_REASM_MAX];
    static struct ntk_ctl_reasm r[2];
    assert_int_equal(reassemble(req, false, buf[0], sizeof buf[0], &r[0]), frags);
    assert_int_equal(reassemble(req, true, buf[1], sizeof buf[1], &r[1]), frags);
    size_t l0, l1;
    const uint8_t *d0 = ntk_ctl_reasm_data(&r[0], &l0);
    const uint8_t *d1 = ntk_ctl_reasm_data(&r[1], &l1);
    assert_int_equal(l0, l1);
    assert_memory_equal(d0, d1, l0);
    *len = l0;
    return (const char *)d0;
}

/* Finds name and checks its value as written (and whether it was quoted). */
static struct ntk_cvar_item item_of(const char *t, size_t len, const char *name,
                                    const char *value, bool quoted)
{
    struct ntk_cvar_item it;
    int rc = ntk_cvar_find(t, len, name, &it);
    if (rc != NTK_OK) {
        fail_msg("%s: %d", name, rc);
    }
    assert_int_equal(it.quoted, quoted);
    if (value != NULL) {
        assert_int_equal(it.value.len, strlen(value));
        assert_memory_equal(it.value.p, value, it.value.len);
    }
    return it;
}

static double si(const char *t, size_t len, const char *name)
{
    struct ntk_cvar_item it = item_of(t, len, name, NULL, false);
    double v;
    assert_int_equal(ntk_cvar_get(&it, &v), NTK_OK);
    return v;
}

static bool near(double a, double b)
{
    double d = a - b;
    return d <= 1e-15 && d >= -1e-15;
}

static size_t count_items(const char *t, size_t len)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    size_t n = 0;
    int rc;
    ntk_cvar_init(&it, t, len);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        n++;
    }
    assert_int_equal(rc, 0);
    return n;
}

/* Re-formats every item as parsed (quoted ones through put_str) and compares with what
 * NTPsec sent: same separators, same line breaks, same trailing CRLF. */
static void reformat_same(const char *t, size_t len)
{
    static char out[NTK_CTL_REASM_MAX];
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_sb_init(&sb, out, sizeof out);
    ntk_cvar_wr_init(&w, &sb);
    ntk_cvar_init(&it, t, len);
    while (ntk_cvar_next(&it, &item) == 1) {
        char name[NTK_CVAR_NAME_MAX + 1], value[NTK_CVAR_VALUE_MAX + 1];
        assert_int_equal(ntk_span_cstr(item.name, name, sizeof name), NTK_OK);
        int n = ntk_cvar_unquote(&item, value, sizeof value);
        assert_true(n >= 0);
        if (item.quoted) {
            ntk_cvar_put_str(&w, name, value, (size_t)n);
        } else {
            ntk_cvar_put_raw(&w, name, value, (size_t)n);
        }
    }
    assert_int_equal(ntk_cvar_finish(&w), NTK_OK);
    assert_int_equal(ntk_sb_len(&sb), len);
    assert_memory_equal(out, t, len);
}

static void readvar_system(void **state)
{
    (void)state;
    size_t len;
    const char *t = response_text(1, 1, &len);
    assert_int_equal(len, 349);
    assert_int_equal(count_items(t, len), 19);
    item_of(t, len, "version", "ntpd ntpsec-1.2.2", true);
    item_of(t, len, "processor", "x86_64", true);
    item_of(t, len, "system", "Linux/6.18.44-fc-v669", true);
    item_of(t, len, "refid", "127.0.0.1", false);
    assert_true(si(t, len, "stratum") == 5);
    assert_true(si(t, len, "precision") == -24);
    assert_true(si(t, len, "rootdelay") == 0);
    assert_true(near(si(t, len, "clk_jitter"), 60e-9));
    assert_true(si(t, len, "frequency") == 0);
    struct ntk_cvar_item it = item_of(t, len, "clock", "0xeeb22b9a.9ef41b6f", false);
    ntk_ts ts;
    assert_int_equal(ntk_cvar_parse_ts(it.value, &ts), NTK_OK);
    assert_int_equal(ntk_ts_sec(ts), 0xeeb22b9a);
    assert_int_equal(ntk_ts_frac(ts), 0x9ef41b6f);
    it = item_of(t, len, "reftime", NULL, false);
    assert_int_equal(ntk_cvar_parse_ts(it.value, &ts), NTK_OK);
    assert_true(ntk_ts_is_zero(ts));
    assert_int_equal(ntk_cvar_find(t, len, "nosuchvar", &it), NTK_ENOTFOUND);
    reformat_same(t, len);
    /* ss_uptime,ss_numctlreq (frame 16 asks, 17 answers). */
    t = response_text(16, 1, &len);
    assert_true(si(t, len, "ss_uptime") == 13);
    assert_true(si(t, len, "ss_numctlreq") == 7);
    reformat_same(t, len);
    /* The request's own list is bare names. */
    struct ntk_ctl_msg q = decode(16);
    assert_int_equal(ntk_cvar_find((const char *)q.data, q.hdr.count, "ss_numctlreq", &it),
                     NTK_OK);
    assert_false(it.has_value);
}

static void readvar_peers(void **state)
{
    (void)state;
    size_t len;
    /* rv &1 (assoc 17767, chronyd), frames 6 + 7. */
    const char *t = response_text(5, 2, &len);
    assert_int_equal(len, 468 + 179);
    assert_int_equal(count_items(t, len), 30);
    item_of(t, len, "srcadr", "127.0.0.1", false);
    assert_true(si(t, len, "srcport") == 123);
    assert_true(near(si(t, len, "delay"), 42.335e-6));
    assert_true(near(si(t, len, "offset"), 10.123e-6));
    assert_true(near(si(t, len, "jitter"), 1.404e-6));
    assert_true(near(si(t, len, "dispersion"), 0.187526793));
    assert_true(si(t, len, "reach") == 1);
    assert_true(si(t, len, "flash") == 0x1000);
    assert_true(si(t, len, "headway") == 72);
    assert_true(si(t, len, "ntscookies") == -1);
    double filt[16];
    struct ntk_cvar_item it = item_of(t, len, "filtdelay", NULL, false);
    assert_int_equal(ntk_cvar_parse_ms_list(it.value, filt, 16), 8);
    assert_true(near(filt[0], 40e-6));
    assert_true(near(filt[5], 50e-6));
    it = item_of(t, len, "filtoffset", NULL, false);
    assert_int_equal(ntk_cvar_parse_ms_list(it.value, filt, 16), 16);
    /* NTPsec 1.2.2's ctl_putarray leaves a stray byte in filtdisp: "0.0\x04". */
    it = item_of(t, len, "filtdisp", NULL, false);
    assert_int_equal(ntk_cvar_parse_ms_list(it.value, filt, 16), NTK_EFORMAT);
    it = item_of(t, len, "rec", "0xeeb22b98.6fffeaec", false);
    /* rv &2 (assoc 17768, the SHM refclock), frames 9 + 10. */
    t = response_text(8, 2, &len);
    assert_int_equal(len, 468 + 250);
    assert_int_equal(count_items(t, len), 32);
    item_of(t, len, "srchost", "SHM(0)", true);
    item_of(t, len, "refid", "SHM0", false);
    assert_true(near(si(t, len, "dispersion"), 15.9375));
    it = item_of(t, len, "filtdelay",
                 "0.04 0.\x8f+\xb2\xee 0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00", false);
    assert_int_equal(ntk_cvar_parse_ms_list(it.value, filt, 16), NTK_EFORMAT);
    /* rv &1 again, frames 12 + 13. */
    t = response_text(11, 2, &len);
    assert_int_equal(len, 468 + 203);
}

static void readclock_sysstats_ifstats(void **state)
{
    (void)state;
    size_t len;
    const char *t = response_text(14, 1, &len);
    assert_int_equal(count_items(t, len), 10);
    item_of(t, len, "name", "SHM", true);
    item_of(t, len, "timecode", "", true);
    item_of(t, len, "device", "SHM/Shared memory interface", true);
    reformat_same(t, len);
    /* sysstats: frames 19 + 20, the second 13 bytes long. */
    t = response_text(18, 2, &len);
    assert_int_equal(len, 468 + 13);
    assert_int_equal(count_items(t, len), 30);
    assert_true(si(t, len, "ss_received") == 21);
    assert_true(si(t, len, "ss_processed_r") == 20);
    item_of(t, len, "ss_ver1symm_r", "0", false);
    reformat_same(t, len);
    /* ifstats, authenticated: frame 28. */
    t = response_text(27, 1, &len);
    assert_int_equal(len, 125);
    assert_int_equal(count_items(t, len), 11);
    item_of(t, len, "bcast.0", "", false);
    item_of(t, len, "name.0", "lo", true);
    item_of(t, len, "addr.0", "127.0.0.2:123", false);
    assert_true(si(t, len, "gsb.0") == 1312);
    reformat_same(t, len);
    /* reslist, refused: frame 30 is an error response (PERMISSION). */
    static uint8_t buf[64];
    struct ntk_ctl_reasm r;
    assert_int_equal(reassemble(29, false, buf, sizeof buf, &r), 1);
    assert_int_equal(ntk_ctl_reasm_error(&r), NTK_CTL_CERR_PERMISSION);
}

static void mrulist(void **state)
{
    (void)state;
    size_t len;
    const char *t = response_text(21, 1, &len);
    item_of(t, len, "nonce", "eeb22b9b3a3ab4ea35d6204b", false);
    reformat_same(t, len);
    /* The READ_MRU request carries that nonce and frags=32 (ntpq's MAXFRAGS). */
    struct ntk_ctl_msg q = decode(23);
    item_of((const char *)q.data, q.hdr.count, "nonce", "eeb22b9b3a3ab4ea35d6204b", false);
    assert_true(si((const char *)q.data, q.hdr.count, "frags") == 32);
    /* 3 fragments (466 + 466 + 102 bytes). */
    t = response_text(23, 3, &len);
    assert_int_equal(len, 466 + 466 + 102);
    assert_int_equal(count_items(t, len), 61);
    item_of(t, len, "nonce", "eeb22b9b3a51d6f8c6411e59", false);
    char name[16];
    for (int i = 0; i <= 6; i++) {
        struct ntk_cvar_item it;
        snprintf(name, sizeof name, "addr.%d", i);
        assert_int_equal(ntk_cvar_find(t, len, name, &it), NTK_OK);
        snprintf(name, sizeof name, "last.%d", i);
        it = item_of(t, len, name, NULL, false);
        assert_int_equal(ntk_cvar_unit_of(it.name, NULL), NTK_CVAR_TS);
        ntk_ts ts;
        assert_int_equal(ntk_cvar_parse_ts(it.value, &ts), NTK_OK);
        assert_true(ntk_ts_sec(ts) >= 0xeeb22b97 && ntk_ts_sec(ts) <= 0xeeb22b9b);
    }
    struct ntk_cvar_item it;
    assert_int_equal(ntk_cvar_find(t, len, "addr.7", &it), NTK_ENOTFOUND);
    item_of(t, len, "addr.0", "127.0.0.3:47533", false);
    item_of(t, len, "addr.6", "127.0.0.1:57192", false);
    item_of(t, len, "last.6", "0xeeb22b9b.3a51d6f8", false);
    item_of(t, len, "last.newest", "0xeeb22b9b.3a51d6f8", false);
    item_of(t, len, "now", "0xeeb22b9b.3a5727e7", false);
    assert_true(si(t, len, "ct.6") == 17);
    assert_true(near(si(t, len, "sc.6"), 0.737));
    assert_true(si(t, len, "rs.0") == 0x40);
    reformat_same(t, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(headers_match_tshark),
        cmocka_unit_test(macs_verify),
        cmocka_unit_test(readvar_system),
        cmocka_unit_test(readvar_peers),
        cmocka_unit_test(readclock_sysstats_ifstats),
        cmocka_unit_test(mrulist),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
