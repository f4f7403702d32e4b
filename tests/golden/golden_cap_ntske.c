/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test: ntpcap's NTS-KE decryption (--tls-keylog) on a real capture made by
 * tests/interop/ntpcap_nts_keylog.sh (tests/data/ntske-keylog.pcap: our ntpd as NTS-KE server,
 * our ntpdig and then chronyd 4.3 as clients, TLS 1.3 with TLS_AES_256_GCM_SHA384) and the
 * key log both clients wrote (ntske-keylog.keys), against tshark 4.0's decryption of the
 * same file with the same key log (ntske-keylog.tsv: frame, tcp.stream, tcp.dstport,
 * tls.record.opaque_type, tls.record.content_type, data.len): per connection the records
 * decrypted (closing alerts excepted) and the plaintext bytes each way, which are the two
 * NTS-KE messages. Then the same file without keys and with one connection's keys only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "cap.h"
#include "cap_keylog.h"

#include "poison.h"

enum { MAX_CONN = 4 };

struct got {
    int n;
    struct cap_ntske k[MAX_CONN];
    uint16_t client_port[MAX_CONN];
};

static void on_exchange(void *ctx, const struct cap_exch *x)
{
    struct got *g = ctx;
    assert_int_equal(x->kind, CAP_X_NTSKE);
    assert_non_null(x->ntske);
    assert_true(g->n < MAX_CONN);
    g->k[g->n] = *x->ntske;
    g->client_port[g->n++] = x->req->src.port;
}

/* The capture's key log; the first `keep` secrets only when keep < 8 (ntpdig's four
 * come first). */
static void load_keys(struct cap_keylog *kl, size_t keep)
{
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/ntske-keylog.keys", NTK_TEST_DATA_DIR);
    assert_int_equal(cap_keylog_load(kl, path, why, sizeof why), 0);
    assert_int_equal(kl->n, 8);
    assert_int_equal(kl->skipped, 2); /* the two EXPORTER_SECRET lines */
    assert_int_equal(kl->bad, 0);
    kl->n = keep < kl->n ? keep : kl->n;
}

/* Runs the capture with the key log kl (NULL: none). */
static void run(const struct cap_keylog *kl, struct got *g)
{
    char path[512], err[PCAP_ERRBUF_SIZE];
    memset(g, 0, sizeof *g);
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    cfg.keylog = kl;
    snprintf(path, sizeof path, "%s/ntske-keylog.pcap", NTK_TEST_DATA_DIR);
    pcap_t *pc =
        pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (pc == NULL) {
        fail_msg("%s: %s", path, err);
    }
    struct cap_sink sink = {.ctx = g, .exchange = on_exchange};
    struct cap *c = cap_new(&cfg, &sink);
    assert_non_null(c);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        cap_feed(c, pcap_datalink(pc), data, h->caplen, h->len, (int64_t)h->ts.tv_sec,
                 (uint32_t)h->ts.tv_usec);
    }
    cap_finish(c);
    assert_int_equal(cap_stats(c)->ntske, 34);
    cap_destroy(c);
    pcap_close(pc);
}

/* tshark's figures per TCP stream: decrypted records, client and server plaintext bytes. */
struct ts {
    unsigned records[MAX_CONN];
    unsigned c2s[MAX_CONN], s2c[MAX_CONN];
    int streams;
};

/* Number of comma-separated values in f, and how many equal v. */
static unsigned count(const char *f, const char *v, unsigned *eq)
{
    unsigned n = 0;
    *eq = 0;
    while (*f != '\0') {
        size_t k = strcspn(f, ",");
        n++;
        *eq += strlen(v) == k && strncmp(f, v, k) == 0;
        f += k + (f[k] == ',');
    }
    return n;
}

static unsigned sum(const char *f)
{
    unsigned s = 0;
    while (*f != '\0') {
        s += (unsigned)strtoul(f, NULL, 10);
        f += strcspn(f, ",");
        f += *f == ',';
    }
    return s;
}

static void tshark(struct ts *t)
{
    char path[512], line[512];
    memset(t, 0, sizeof *t);
    snprintf(path, sizeof path, "%s/ntske-keylog.tsv", NTK_TEST_DATA_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *col[6] = {0};
        char *p = line;
        for (int i = 0; i < 6; i++) {
            col[i] = p;
            p += strcspn(p, "\t");
            if (*p == '\t') {
                *p++ = '\0';
            }
        }
        int s = (int)strtol(col[1], NULL, 10);
        assert_true(s >= 0 && s < MAX_CONN);
        t->streams = s + 1 > t->streams ? s + 1 : t->streams;
        unsigned alerts = 0, eq = 0;
        unsigned opaque = count(col[3], "23", &eq);
        (void)count(col[4], "21", &alerts);
        t->records[s] += opaque - (opaque ? alerts : 0);
        if (strcmp(col[2], "4460") == 0) {
            t->c2s[s] += sum(col[5]);
        } else {
            t->s2c[s] += sum(col[5]);
        }
    }
    fclose(f);
}

static void decrypted_as_tshark(void **state)
{
    (void)state;
    struct got g;
    struct cap_keylog kl;
    load_keys(&kl, 8);
    run(&kl, &g);
    cap_keylog_free(&kl);
    struct ts t;
    tshark(&t);
    assert_int_equal(g.n, 2);
    assert_int_equal(t.streams, 2);
    for (int i = 0; i < 2; i++) {
        const struct cap_ntske *k = &g.k[i];
        print_message("connection %d (port %u): %s, %llu/%llu records, %zu/%zu bytes; tshark "
                      "%u records, %u/%u bytes\n",
                      i, g.client_port[i], k->status, (unsigned long long)k->records_c2s,
                      (unsigned long long)k->records_s2c, k->request_len, k->response_len,
                      t.records[i], t.c2s[i], t.s2c[i]);
        assert_string_equal(k->status, "ok");
        assert_int_equal(k->records_c2s + k->records_s2c, t.records[i]);
        assert_int_equal(k->request_len, t.c2s[i]);
        assert_int_equal(k->response_len, t.s2c[i]);
        assert_int_equal(k->cipher_suite, 0x1302);
        assert_string_equal(k->sni, "ntske.test");
        assert_string_equal(k->alpn, "ntske/1");
        assert_int_equal(k->n_req_aeads, 1);
        assert_int_equal(k->req_aeads[0], 15);
        assert_int_equal(k->next_protocol, 0);
        assert_int_equal(k->aead, 15);
        assert_int_equal(k->error_code, -1);
        assert_int_equal(k->warning_code, -1);
        assert_int_equal(k->n_cookies, 8);
        assert_int_equal(k->cookies_dropped, 0);
        for (size_t c = 0; c < 8; c++) {
            assert_int_equal(k->cookie_lens[c], 104);
        }
        assert_string_equal(k->server, "");
        assert_int_equal(k->port, -1);
        assert_int_equal(k->retransmits, 0);
    }
    /* 7 records and 16 + 880 bytes: NPN, AEAD {15}, End; NPN, AEAD, 8 x (4 + 104), End. */
    assert_int_equal(t.records[0], 7);
    assert_int_equal(t.c2s[0], 16);
    assert_int_equal(t.s2c[0], 880);
}

static void without_keys(void **state)
{
    (void)state;
    struct got g;
    run(NULL, &g);
    assert_int_equal(g.n, 0); /* no key log: metadata only, no exchange */
    /* ntpdig's secrets only: chronyd's connection is reported without keys. */
    struct cap_keylog kl;
    load_keys(&kl, 4);
    run(&kl, &g);
    cap_keylog_free(&kl);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.k[0].status, "ok");
    assert_string_equal(g.k[1].status, "no_keys");
    assert_int_equal(g.k[1].cipher_suite, 0x1302);
    assert_int_equal(g.k[1].records_c2s + g.k[1].records_s2c, 0);
    assert_false(g.k[1].request);
    assert_int_equal(g.k[1].next_protocol, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decrypted_as_tshark),
        cmocka_unit_test(without_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
