/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test for ntpq: the mode-6 responses NTPsec 1.2.2's ntpd sent in the capture
 * tests/data/mode6.tsv are replayed, in order, to our ntpq's command interpreter (the same
 * commands NTPsec's ntpq ran then, -n), and what it prints must be exactly what NTPsec's ntpq
 * printed for them (shared/data/mode6.log, copied below), apart from the mrulist timing
 * lines ("# Collected ... in N seconds") whose numbers are the run's own. The clock is
 * pinned to the "clock=" value of the first response, so the peers "when" column is what
 * it was. It links ntpq_core, the code the ntpq program runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"
#include "tsv.h"

#include "ntk/ctl.h"
#include "ntk/err.h"
#include "nq.h"
#include "nq_cmd.h"

#include "poison.h"

/* mode6.log, after "ntpq -n -c rv -c peers -c 'rv &1' -c 'cv &2' -c sysstats 127.0.0.2" */
static const char expect_first[] =
    "associd=0 status=0016 leap_none, sync_unspec, 1 event, restart,\n"
    "leap=00, stratum=5, precision=-24, rootdelay=0.0, rootdisp=0.0,\n"
    "refid=127.0.0.1, reftime=00000000.00000000 2036-02-07T06:28:16.000Z, tc=0,\n"
    "peer=0, offset=0.0, frequency=0.0, sys_jitter=0.0, clk_jitter=6e-05,\n"
    "clock=eeb22b9a.9ef41b6f 2026-11-26T03:52:58.620Z, processor=\"x86_64\",\n"
    "system=\"Linux/6.18.44-fc-v669\", version=\"ntpd ntpsec-1.2.2\", clk_wander=0.0,\n"
    "mintc=0\n"
    "     remote           refid      st t when poll reach   delay   offset   jitter\n"
    "===============================================================================\n"
    " 127.0.0.1       127.127.1.1      2 u    2   16    1   0.0423   0.0101   0.0014\n"
    " SHM(0)          .SHM0.           0 l    -   64    0   0.0000   0.0000   0.0001\n"
    "associd=17767 status=b014 conf, auth, reach, sel_reject, 1 event, reachable,\n"
    "srcadr=127.0.0.1, srcport=123, dstadr=127.0.0.2, dstport=123, leap=00,\n"
    "hmode=3, stratum=2, ppoll=99, hpoll=4, precision=-26, rootdelay=0.0,\n"
    "rootdisp=0.0, refid=127.127.1.1,\n"
    "reftime=eeb22b8c.7d549e3c 2026-11-26T03:52:44.489Z,\n"
    "rec=eeb22b98.6fffeaec 2026-11-26T03:52:56.437Z,\n"
    "xmt=eeb22b98.6fff31a0 2026-11-26T03:52:56.437Z, reach=001, unreach=1,\n"
    "delay=0.042335, offset=0.010123, jitter=0.001404, dispersion=187.526793,\n"
    "keyid=0,  filtdelay =0.04\t0.+\t0.04\t0.04\t0.03\t0.04\t0.04\t0.05\t0.00\t0.00,\n"
    "filtoffset "
    "=0.04\t0.+\t0.04\t0.04\t0.03\t0.04\t0.04\t0.05\t0.00\t0.00\t0.01\t0.01\t0.01\t0.01\t0."
    "01\t0.01\t0.00\t0.00,\n"
    "pmode=4,\n"
    "  filtdisp "
    "=0.04\t0.+\t0.04\t0.04\t0\t0.00\t0.03\t0.06\t0.09\t0.12\t0.15\t16000.00\t16000.00,\n"
    "flash=1000 peer_unreach, headway=72, ntscookies=-1\n"
    "associd=17768 status=0011 1 event, clk_no_reply,\n"
    "name=\"SHM\", timecode=\"\", poll=1, noreply=1, badformat=0, baddata=0,\n"
    "stratum=0, refid=SHM0, flags=0, device=\"SHM/Shared memory interface\"\n"
    "uptime:                     00:00:13\n"
    "control requests:                  7\n"
    "sysstats reset:             00:00:13      00:00:13\n"
    "packets received:                 21            21        2.0p/s        2.0p/s\n"
    "current version:                  13            13        1.0s/p        1.0s/p\n"
    "older version:                     0             0                            \n"
    "NTPv1 total:                       0             0                            \n"
    "NTPv1 clients:                     0             0                            \n"
    "NTPv1 mode0:                       0             0                            \n"
    "NTPv1 symm act:                    0             0                            \n"
    "bad length or format:              0             0                            \n"
    "authentication failed:             0             0                            \n"
    "declined:                          0             0                            \n"
    "restricted:                        0             0                            \n"
    "rate limited:                      0             0                            \n"
    "KoD responses:                     0             0                            \n"
    "processed for time:               20            20        2.0p/s        2.0p/s\n";

/* mode6.log, after "ntpq -n -c mrulist 127.0.0.2" */
static const char expect_mru[] =
    "Ctrl-C will stop MRU retrieval and display partial results.\n"
    " lstint avgint rstr r m v  count    score   drop rport remote address\n"
    "=====================================================================\n"
    "      0  0.799    0 . 6 2     17    0.737      0 57192 127.0.0.1\n"
    "      3      0   40 . 3 4      1    0.050      0 39607 127.0.0.8\n"
    "      3      0   40 . 3 4      1    0.050      0 34441 127.0.0.7\n"
    "      3      0   40 . 3 4      1    0.050      0 57134 127.0.0.6\n"
    "      4      0   40 . 3 4      1    0.050      0 59034 127.0.0.5\n"
    "      4      0   40 . 3 4      1    0.050      0 54331 127.0.0.4\n"
    "      4      0   40 . 3 4      1    0.050      0 47533 127.0.0.3\n"
    "# Collected 7 slots in 0.001 seconds\n"
    "# Processed 7 slots in 0.002 seconds\n"
    "# Used 23 megabytes of memory\n";

/* mode6.log, after "ntpq -n -c ifstats 127.0.0.2   (NO key: expect an error response)" */
static const char expect_noauth[] = "***Invalid key identifier\n";

/* mode6.log, after "ntpq -n -a 3 -k ntpsec.keys -c ifstats 127.0.0.2   (AES-128-CMAC, key 3 =
 * controlkey)" */
static const char expect_ifstats[] =
    "    interface name                                  send\n"
    " #  address/broadcast     drop flag received sent failed peers   uptime\n"
    " ==========================================================================\n"
    "  0 lo                       .    5     23     29      0     2       15\n"
    "    127.0.0.2:123\n";

/* mode6.log, after "ntpq -n -a 2 -k ntpsec.keys -c reslist 127.0.0.2   (SHA1, key 2)" */
static const char expect_reslist[] = "***Server error code PERMISSION\n";

enum { NFRAMES = 30 };

/* One captured datagram, decoded. */
struct frame {
    uint8_t p[NTK_CTL_DATAGRAM_MAX];
    size_t len;
    struct ntk_ctl_msg m;
    bool used; /* a request already answered */
};

static struct frame frames[NFRAMES + 1];
static char reply[NTK_CTL_REASM_MAX + 1];

static void load_frames(void)
{
    struct tsv t;
    const char *cols[TSV_MAX_COLS];
    tsv_open(&t, "mode6");
    int pc = tsv_col(&t, "udp.payload"), fc = tsv_col(&t, "frame.number");
    while (tsv_next(&t, cols)) {
        long n = strtol(cols[fc], NULL, 10);
        assert_true(n >= 1 && n <= NFRAMES);
        struct frame *f = &frames[n];
        size_t hl = strlen(cols[pc]);
        assert_true(hl / 2 <= sizeof f->p);
        for (size_t i = 0; i < hl / 2; i++)
            f->p[i] =
                (uint8_t)strtoul((char[]){cols[pc][2 * i], cols[pc][2 * i + 1], 0}, NULL, 16);
        f->len = hl / 2;
        assert_int_equal(ntk_ctl_decode(f->p, f->len, &f->m), 0);
    }
    tsv_close(&t);
}

/* The response to request frame i: its fragments (the frames after it with the same
 * sequence) reassembled. */
static int answer(size_t i, struct nq_reply *r)
{
    struct ntk_ctl_reasm ra;
    ntk_ctl_reasm_init(&ra, (uint8_t *)reply, sizeof reply - 1, frames[i].m.hdr.opcode,
                       frames[i].m.hdr.sequence);
    for (size_t k = i + 1; k <= NFRAMES && !ntk_ctl_reasm_done(&ra); k++)
        if (frames[k].m.hdr.response)
            ntk_ctl_reasm_feed(&ra, &frames[k].m);
    assert_true(ntk_ctl_reasm_done(&ra));
    if (ntk_ctl_reasm_error(&ra) >= 0)
        return NQ_Q_SERVER + ntk_ctl_reasm_error(&ra);
    size_t len;
    ntk_ctl_reasm_data(&ra, &len);
    reply[len] = '\0';
    *r = (struct nq_reply){.data = reply, .len = len, .status = ra.status};
    return 0;
}

/* The first unanswered captured request that matches; the test fails when there is none
 * (our ntpq sent something NTPsec's did not). */
static int fake_query(void *ctx, uint8_t op, uint16_t associd, const char *data, size_t len,
                      uint32_t keyid, struct nq_reply *r)
{
    (void)ctx, (void)keyid;
    for (size_t i = 1; i <= NFRAMES; i++) {
        const struct ntk_ctl_msg *m = &frames[i].m;
        if (frames[i].used || m->hdr.response || m->hdr.opcode != op ||
            m->hdr.associd != associd || m->hdr.count != len ||
            memcmp(m->data, data, len) != 0)
            continue;
        frames[i].used = true;
        return answer(i, r);
    }
    fail_msg("no captured request for op %u assoc %u data '%.*s'", op, associd, (int)len,
             data);
    return NQ_Q_TIMEOUT;
}

/* mrulist: the READ_MRU response of the capture as the one chunk (the nonce exchange is
 * ntk_ctlc's business). */
static int fake_mrulist(void *ctx, const char *params, size_t len, unsigned frags,
                        nq_chunk_fn chunk, void *cctx)
{
    (void)ctx;
    assert_int_equal(len, 0);
    (void)params;
    assert_int_equal(frags, 32);
    struct nq_reply r;
    assert_int_equal(answer(23, &r), 0);
    chunk(cctx, r.data, r.len);
    return 0;
}

static int fake_open(void *ctx, const char *host, int family, FILE *err)
{
    (void)ctx, (void)host, (void)family, (void)err;
    return 0;
}

static void fake_timeout(void *ctx, long ms)
{
    (void)ctx, (void)ms;
}

static bool fake_have_key(void *ctx, uint32_t keyid)
{
    (void)ctx;
    return keyid == 2 || keyid == 3;
}

static int fake_add_key(void *ctx, uint32_t keyid, const char *type, const char *pw)
{
    (void)ctx, (void)keyid, (void)type, (void)pw;
    return -1;
}

/* The "clock=" of frame 2: 0xeeb22b9a.9ef41b6f. */
static double fake_now(void *ctx)
{
    (void)ctx;
    return (double)(0xeeb22b9aLL - NTK_NTP_UNIX_OFFSET_S) + 0x9ef41b6f / 4294967296.0;
}

static const struct nq_io fake_io = {.open = fake_open,
                                     .query = fake_query,
                                     .mrulist = fake_mrulist,
                                     .set_timeout = fake_timeout,
                                     .have_key = fake_have_key,
                                     .add_key = fake_add_key,
                                     .now = fake_now};

/* Runs the commands as "ntpq -n [-a keyid] -c ... 127.0.0.2" and returns what it printed
 * (stdout and stderr together, as in the log). */
static char *run(const char *const *cmds, size_t n, uint32_t keyid)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct nq q;
    nq_init(&q, &fake_io, f, f);
    q.st.showhostnames = 0;
    q.hostname = "127.0.0.2";
    q.nhosts = 1;
    q.keyid = keyid;
    for (size_t i = 0; i < n; i++)
        nq_run(&q, cmds[i]);
    nq_fini(&q);
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    memset(frames, 0, sizeof frames);
    load_frames();
    return 0;
}

static void test_rv_peers_cv_sysstats(void **state)
{
    (void)state;
    static const char *const cmds[] = {"rv", "peers", "rv &1", "cv &2", "sysstats"};
    char *out = run(cmds, 5, 0);
    assert_string_equal(out, expect_first);
    free(out);
}

/* The timing lines of mrulist carry this run's numbers: compare them as patterns. */
static void test_mrulist(void **state)
{
    (void)state;
    static const char *const cmds[] = {"mrulist"};
    char *out = run(cmds, 1, 0);
    char *exp = strdup(expect_mru), *o = out, *e = exp;
    for (;;) {
        char *on = strchr(o, '\n'), *en = strchr(e, '\n');
        if (on == NULL || en == NULL) {
            assert_true(on == NULL && en == NULL);
            break;
        }
        *on = *en = '\0';
        if (strncmp(e, "# Used ", 7) == 0) {
            /* "# Used 23 megabytes of memory": this process's size, not NTPsec's. */
            assert_true(strncmp(o, "# Used ", 7) == 0);
            assert_string_equal(strstr(o, " megabytes"), strstr(e, " megabytes"));
        } else if (strncmp(e, "# ", 2) == 0) {
            /* "# Collected 7 slots in 0.001 seconds": the count exact, the time ours. */
            char *ec = strstr(e, " in "), *oc = strstr(o, " in ");
            assert_non_null(oc);
            assert_int_equal(oc - o, ec - e);
            assert_true(strncmp(o, e, (size_t)(ec - e)) == 0);
            assert_string_equal(strrchr(o, ' '), strrchr(e, ' '));
        } else
            assert_string_equal(o, e);
        o = on + 1;
        e = en + 1;
    }
    free(exp);
    free(out);
}

static void test_ifstats_unauthenticated(void **state)
{
    (void)state;
    static const char *const cmds[] = {"ifstats"};
    char *out = run(cmds, 1, 0);
    assert_string_equal(out, expect_noauth);
    free(out);
}

static void test_ifstats(void **state)
{
    (void)state;
    static const char *const cmds[] = {"ifstats"};
    char *out = run(cmds, 1, 3);
    assert_string_equal(out, expect_ifstats);
    free(out);
}

static void test_reslist_refused(void **state)
{
    (void)state;
    static const char *const cmds[] = {"reslist"};
    char *out = run(cmds, 1, 2);
    assert_string_equal(out, expect_reslist);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rv_peers_cv_sysstats, setup),
        cmocka_unit_test_setup(test_mrulist, setup),
        cmocka_unit_test_setup(test_ifstats_unauthenticated, setup),
        cmocka_unit_test_setup(test_ifstats, setup),
        cmocka_unit_test_setup(test_reslist_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
