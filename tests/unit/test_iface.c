/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's interface decision (daemon/io/iface.h): NTPsec's interface/nic rules,
 * -I, -L and -4/-6 over a made-up address list, table cases and seeded properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "../../daemon/io/conf.h"
#include "../../daemon/io/iface.h"
#include "testutil.h"

#include "poison.h"

/* The made-up machine. */
#define UP IFACE_F_UP
#define LO (IFACE_F_UP | IFACE_F_LOOPBACK)
static const struct {
    const char *name, *addr;
    unsigned flags;
} fixture[] = {
    {"lo", "127.0.0.1", LO},      /* 0: loopback, listens unless a rule says otherwise */
    {"lo", "127.0.0.2", LO},      /* 1: an extra 127/8 address: follows the rules */
    {"lo", "::1", LO},            /* 2 */
    {"eth0", "192.0.2.10", UP},   /* 3 */
    {"eth0:1", "192.0.2.11", UP}, /* 4: an alias label (-L ignores it) */
    {"eth0", "2001:db8::10", UP}, /* 5 */
    {"eth0", "fe80::1%2", UP},    /* 6: link-local, zone = ifindex 2 */
    {"eth1", "198.51.100.7", UP}, /* 7 */
    {"down0", "203.0.113.1", 0},  /* 8: interface down: never opened */
    {"eth2", "0.0.0.0", UP},      /* 9: a wildcard address on an interface: skipped */
};
#define NFIX (sizeof fixture / sizeof fixture[0])

static struct iface_addr addrs[NFIX];

static struct ntk_addr addr_of(const char *text)
{
    struct ntk_addr a;
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){text, strlen(text)}, &a), 0);
    return a;
}

static void load_fixture(void)
{
    for (size_t i = 0; i < NFIX; i++) {
        memset(&addrs[i], 0, sizeof addrs[i]);
        memcpy(addrs[i].name, fixture[i].name, strlen(fixture[i].name));
        addrs[i].addr = addr_of(fixture[i].addr);
        addrs[i].flags = fixture[i].flags;
    }
}

static char action_char(enum iface_action a)
{
    return a == IFACE_LISTEN ? 'L' : a == IFACE_DROP ? 'D' : '-';
}

/* The interface lines of text through the real parser. */
static void parse_nics(const char *text, struct conf *c)
{
    static struct conf_diags g;
    conf_diags_init(&g);
    conf_init(c);
    assert_int_equal(conf_parse_text(c, "t", text, strlen(text), &g), 0);
}

/* One case: configuration text, -I arguments (NULL-terminated), -L, the family. */
struct tcase {
    const char *conf;
    const char *opt_i[4];
    bool no_virtual;
    int af;
    const char *wild;  /* wild4 wild6 as two characters */
    const char *addrs; /* one character per fixture address: L, D or - (not opened) */
};

static void run_case(const struct tcase *t)
{
    static struct conf c;
    static struct iface_rules r;
    static struct iface_plan p;
    parse_nics(t->conf, &c);
    size_t ni = 0;
    while (t->opt_i[ni] != NULL)
        ni++;
    assert_int_equal(
        iface_rules_build(&r, c.nics, c.n_nics, t->opt_i, ni, t->no_virtual, t->af), 0);
    load_fixture();
    iface_plan(&r, addrs, NFIX, &p);
    char wild[3] = {action_char(p.wild4), action_char(p.wild6), 0};
    char got[NFIX + 1];
    for (size_t i = 0; i < NFIX; i++) {
        got[i] = '-';
        for (size_t k = 0; k < p.n; k++)
            if (ntk_addr_eq(&p.e[k].addr, &addrs[i].addr))
                got[i] = action_char(p.e[k].action);
    }
    got[NFIX] = 0;
    if (strcmp(wild, t->wild) != 0 || strcmp(got, t->addrs) != 0)
        print_error("case conf='%s' -I %s -L %d af %d: wild %s addrs %s, expected %s %s\n",
                    t->conf, t->opt_i[0] ? t->opt_i[0] : "-", t->no_virtual, t->af, wild, got,
                    t->wild, t->addrs);
    assert_string_equal(wild, t->wild);
    assert_string_equal(got, t->addrs);
    assert_int_equal(p.overflow, 0);
    assert_int_equal(p.per_address, c.n_nics > 0 || ni > 0 || t->no_virtual);
    conf_free(&c);
}

/*                                        fixture: 0123456789 */
static const struct tcase cases[] = {
    /* No rule, no -L: our default, the two wildcards listen and nothing per address. */
    {"", {NULL}, false, 0, "LL", "----------"},
    {"", {NULL}, false, AF_INET, "L-", "----------"},
    {"", {NULL}, false, AF_INET6, "-L", "----------"},
    /* -L alone: every address but the alias (and down/wildcard ones); wildcards drop. */
    {"", {NULL}, true, 0, "DD", "LLLL-LLL--"},
    {"", {NULL}, true, AF_INET6, "-D", "--L--LL---"},
    /* Names: exact (case-insensitive) and shell patterns; loopback listens by default, the
     * rest is ignored once there is a rule. */
    {"interface listen eth0", {NULL}, false, 0, "DD", "L-LL-LL---"},
    {"interface listen ETH1", {NULL}, false, 0, "DD", "L-L----L--"},
    {"interface listen eth0*", {NULL}, false, 0, "DD", "L-LLLLL---"},
    {"nic drop lo", {NULL}, false, 0, "DD", "DDD-------"},
    /* all leaves out loopback and the wildcards; the last matching rule wins. */
    {"interface ignore all\ninterface listen 192.0.2.10",
     {NULL},
     false,
     0,
     "DD",
     "L-LL------"},
    {"interface listen 192.0.2.10\ninterface ignore all",
     {NULL},
     false,
     0,
     "DD",
     "L-L-------"},
    {"interface listen all", {NULL}, false, 0, "DD", "LLLLLLLL--"},
    {"interface drop all", {NULL}, false, 0, "DD", "LDLDDDDD--"},
    /* ipv4 / ipv6 match the wildcard and loopback of their family too. */
    {"interface drop ipv6", {NULL}, false, 0, "DD", "L-D--DD---"},
    {"interface ignore wildcard\ninterface listen ipv4", {NULL}, false, 0, "L-", "LLLLL--L--"},
    {"interface listen ipv4\ninterface ignore wildcard", {NULL}, false, 0, "--", "LLLLL--L--"},
    {"interface listen wildcard\ninterface ignore ipv4", {NULL}, false, 0, "-L", "--L-------"},
    {"interface ignore wildcard\ninterface ignore ipv6\ninterface ignore 127.0.0.1\n"
     "interface listen 127.0.0.2",
     {NULL},
     false,
     0,
     "--",
     "-L--------"},
    /* Addresses and prefixes; 0.0.0.0 and :: name the wildcards. */
    {"interface listen 192.0.2.0/24", {NULL}, false, 0, "DD", "L-LLL-----"},
    {"interface listen 192.0.2.8/30", {NULL}, false, 0, "DD", "L-LLL-----"},
    {"interface listen 192.0.2.12/30", {NULL}, false, 0, "DD", "L-L-------"},
    {"interface listen 192.0.2.11/32", {NULL}, false, 0, "DD", "L-L-L-----"},
    {"interface listen 192.0.2.10/31", {NULL}, false, 0, "DD", "L-LLL-----"},
    {"interface listen 0.0.0.0/0", {NULL}, false, 0, "LD", "LLLLL--L--"},
    {"interface drop 2001:db8::/32", {NULL}, false, 0, "DD", "L-L--D----"},
    {"interface listen fe80::/10", {NULL}, false, 0, "DD", "L-L---L---"},
    {"interface listen fe80::1%eth0", {NULL}, false, 0, "DD", "L-L---L---"},
    {"interface listen fe80::1%eth1", {NULL}, false, 0, "DD", "L-L-------"},
    {"interface listen 0.0.0.0", {NULL}, false, 0, "LD", "L-L-------"},
    {"interface ignore ::", {NULL}, false, 0, "D-", "L-L-------"},
    {"interface ignore 127.0.0.1\ninterface ignore ::1", {NULL}, false, 0, "DD", "----------"},
    {"interface listen 203.0.113.1", {NULL}, false, 0, "DD", "L-L-------"}, /* down */
    /* -I: an address or a name, as `interface listen X`. */
    {"", {"192.0.2.10", NULL}, false, 0, "DD", "L-LL------"},
    {"", {"eth1", NULL}, false, 0, "DD", "L-L----L--"},
    {"", {"eth1", "2001:db8::10", NULL}, false, 0, "DD", "L-L--L-L--"},
    {"", {"eth0*", NULL}, false, AF_INET, "D-", "L--LL-----"},
    /* -L ignores aliases only after the rules: -I eth0:1 -L listens on it. */
    {"", {"eth0:1", NULL}, true, 0, "DD", "L-L-L-----"},
    {"", {"eth0*", NULL}, true, 0, "DD", "L-LLLLL---"},
};

static void t_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void t_build_errors(void **state)
{
    (void)state;
    static struct conf c;
    static struct iface_rules r;
    parse_nics("interface listen eth0", &c);
    const char *one[] = {"eth1"};
    /* NTPsec: interface lines together with -I or -L are refused. */
    assert_int_equal(iface_rules_build(&r, c.nics, c.n_nics, one, 1, false, 0), -1);
    assert_int_equal(r.n, 0);
    assert_int_equal(iface_rules_build(&r, c.nics, c.n_nics, NULL, 0, true, 0), -1);
    assert_int_equal(iface_rules_build(&r, c.nics, c.n_nics, NULL, 0, false, AF_INET), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.family, NTK_ADDR_V4);
    const char *bad[] = {"eth1", "a/b"};
    assert_int_equal(iface_rules_build(&r, NULL, 0, bad, 2, false, 0), -2);
    assert_int_equal(r.n, 0);
    conf_free(&c);

    struct conf_nic n;
    assert_int_equal(iface_rule_from_opt("192.0.2.1", &n), 0);
    assert_int_equal(n.match, CONF_NIC_ADDR);
    assert_int_equal(n.action, CONF_NIC_LISTEN);
    assert_int_equal(n.prefix_len, -1);
    assert_int_equal(iface_rule_from_opt("2001:db8::1", &n), 0);
    assert_int_equal(n.match, CONF_NIC_ADDR);
    assert_int_equal(iface_rule_from_opt("eth0:1", &n), 0);
    assert_int_equal(n.match, CONF_NIC_NAME);
    assert_string_equal(n.name, "eth0:1");
    /* With a port it is no address: NTPsec takes it as a name (that matches nothing). */
    assert_int_equal(iface_rule_from_opt("1.2.3.4:123", &n), 0);
    assert_int_equal(n.match, CONF_NIC_NAME);
    assert_int_equal(iface_rule_from_opt("", &n), -1);
    assert_int_equal(iface_rule_from_opt("a23456789012345", &n), 0);
    assert_int_equal(iface_rule_from_opt("a234567890123456", &n), -1);
    assert_int_equal(iface_rule_from_opt("e th", &n), -1);
    assert_int_equal(iface_rule_from_opt("10.0.0.0/8", &n), -1); /* NTPsec: -I takes no /len */
}

static void t_helpers(void **state)
{
    (void)state;
    load_fixture();
    assert_true(iface_is_loopback(&addrs[0]));
    assert_false(iface_is_loopback(&addrs[1])); /* 127.0.0.2 */
    assert_true(iface_is_loopback(&addrs[2]));
    assert_false(iface_is_loopback(&addrs[3]));
    struct iface_addr a = addrs[0];
    a.flags = UP; /* 127.0.0.1 on an interface that is not a loopback one */
    assert_false(iface_is_loopback(&a));
    assert_true(iface_is_virtual("eth0:1"));
    assert_false(iface_is_virtual("eth0"));
    assert_false(iface_is_virtual(NULL));
}

/* One address on two labels: one socket; listen and drop disagreeing makes it drop; an
 * ignoring label does not count. */
static void t_shared_address(void **state)
{
    (void)state;
    static struct conf c;
    static struct iface_rules r;
    static struct iface_plan p;
    struct iface_addr two[2];
    memset(two, 0, sizeof two);
    memcpy(two[0].name, "eth0", 5);
    memcpy(two[1].name, "eth5", 5);
    two[0].addr = two[1].addr = addr_of("192.0.2.10");
    two[0].flags = two[1].flags = UP;
    parse_nics("interface listen eth0\ninterface drop eth5", &c);
    assert_int_equal(iface_rules_build(&r, c.nics, c.n_nics, NULL, 0, false, 0), 0);
    iface_plan(&r, two, 2, &p);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.e[0].action, IFACE_DROP);
    assert_string_equal(p.e[0].name, "eth0");
    conf_free(&c);
    parse_nics("interface listen eth0", &c);
    assert_int_equal(iface_rules_build(&r, c.nics, c.n_nics, NULL, 0, false, 0), 0);
    iface_plan(&r, two, 2, &p);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.e[0].action, IFACE_LISTEN);
    conf_free(&c);
}

static void t_overflow(void **state)
{
    (void)state;
    static struct iface_rules r;
    static struct iface_plan p;
    static struct iface_addr many[IFACE_PLAN_MAX + 6];
    for (size_t i = 0; i < IFACE_PLAN_MAX + 6; i++) {
        memset(&many[i], 0, sizeof many[i]);
        memcpy(many[i].name, "eth0", 5);
        uint8_t ip[4] = {10, 0, (uint8_t)(i >> 8), (uint8_t)(i + 1)};
        ntk_addr_set_v4(&many[i].addr, ip, 0);
        many[i].flags = UP;
    }
    assert_int_equal(iface_rules_build(&r, NULL, 0, NULL, 0, true, 0), 0);
    iface_plan(&r, many, IFACE_PLAN_MAX + 6, &p);
    assert_int_equal(p.n, IFACE_PLAN_MAX);
    assert_int_equal(p.overflow, 6);
}

/* A random address (v4 or v6, never a wildcard) on a random label. */
static void random_addr(struct iface_addr *a)
{
    memset(a, 0, sizeof *a);
    uint8_t ip[16];
    tu_fill(ip, sizeof ip);
    ip[0] = (uint8_t)(ip[0] | 1);       /* never 0.0.0.0 / :: */
    ip[0] = ip[0] == 127 ? 126 : ip[0]; /* keep loopback out of it */
    if (tu_rand() % 2)
        ntk_addr_set_v4(&a->addr, ip, 0);
    else
        ntk_addr_set_v6(&a->addr, ip, 0, 0);
    unsigned k = (unsigned)(tu_rand() % 4);
    const char *names[] = {"eth0", "eth1", "eth0:1", "wlan0"};
    memcpy(a->name, names[k], strlen(names[k]));
    a->flags = tu_rand() % 8 ? UP : 0u;
}

static void random_rule(struct conf_nic *n, const struct iface_addr *list, size_t nl)
{
    memset(n, 0, sizeof *n);
    n->action = (enum conf_nic_action)(CONF_NIC_LISTEN + (int)(tu_rand() % 3));
    n->match = (enum conf_nic_match)(CONF_NIC_ALL + (int)(tu_rand() % 6));
    n->prefix_len = -1;
    const char *names[] = {"eth0", "eth*", "ETH1", "wlan0", "eth0:1"};
    const char *name = names[tu_rand() % 5];
    memcpy(n->name, name, strlen(name) + 1);
    n->addr = list[tu_rand() % nl].addr;
    if (n->match == CONF_NIC_ADDR && tu_rand() % 2)
        n->prefix_len = (int)(tu_rand() % (n->addr.family == NTK_ADDR_V4 ? 33 : 129));
}

/* ignore all, then listen X: exactly X (and the wildcards drop) whatever the machine. */
static void t_prop_only_x(void **state)
{
    (void)state;
    static struct iface_rules r;
    static struct iface_plan p;
    struct iface_addr list[12];
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(tu_rand() % 12);
        for (size_t i = 0; i < n; i++)
            random_addr(&list[i]);
        size_t x = (size_t)(tu_rand() % n);
        list[x].flags = UP;
        memset(&r, 0, sizeof r);
        r.no_virtual = tu_rand() % 2;
        r.rule[0] = (struct conf_nic){
            .action = CONF_NIC_IGNORE, .match = CONF_NIC_ALL, .prefix_len = -1};
        r.rule[1] = (struct conf_nic){.action = CONF_NIC_LISTEN,
                                      .match = CONF_NIC_ADDR,
                                      .addr = list[x].addr,
                                      .prefix_len = -1};
        r.n = 2;
        iface_plan(&r, list, n, &p);
        assert_int_equal(p.n, 1);
        assert_true(ntk_addr_eq(&p.e[0].addr, &list[x].addr));
        assert_int_equal(p.e[0].action, IFACE_LISTEN);
        assert_int_equal(p.wild4, IFACE_DROP);
        assert_int_equal(p.wild6, IFACE_DROP);
    }
}

/* The last rule decides: appending `A address` to any rule list makes that address A; and
 * every planned address is an up, non-wildcard input address, listed once. */
static void t_prop_last_wins(void **state)
{
    (void)state;
    static struct iface_rules r;
    static struct iface_plan p;
    struct iface_addr list[10];
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + (size_t)(tu_rand() % 10);
        for (size_t i = 0; i < n; i++)
            random_addr(&list[i]);
        memset(&r, 0, sizeof r);
        r.n = (size_t)(tu_rand() % 8);
        for (size_t i = 0; i < r.n; i++)
            random_rule(&r.rule[i], list, n);
        r.no_virtual = tu_rand() % 2;
        const struct iface_addr *a = &list[tu_rand() % n];
        enum conf_nic_action act =
            (enum conf_nic_action)(CONF_NIC_LISTEN + (int)(tu_rand() % 3));
        r.rule[r.n++] = (struct conf_nic){
            .action = act, .match = CONF_NIC_ADDR, .addr = a->addr, .prefix_len = -1};
        enum iface_action want = act == CONF_NIC_LISTEN ? IFACE_LISTEN
                                 : act == CONF_NIC_DROP ? IFACE_DROP
                                                        : IFACE_IGNORE;
        assert_int_equal(iface_decide(&r, a->name, &a->addr, false), want);
        iface_plan(&r, list, n, &p);
        for (size_t k = 0; k < p.n; k++) {
            bool found = false;
            for (size_t i = 0; i < n; i++)
                found |= ntk_addr_eq(&p.e[k].addr, &list[i].addr) && (list[i].flags & UP);
            assert_true(found);
            assert_int_not_equal(p.e[k].action, IFACE_IGNORE);
            for (size_t j = 0; j < k; j++)
                assert_false(ntk_addr_eq(&p.e[k].addr, &p.e[j].addr));
        }
    }
}

/* The real machine: every address getifaddrs gives has a family and a NUL-terminated name. */
static void t_enumerate(void **state)
{
    (void)state;
    static struct iface_addr got[IFACE_ADDRS_MAX];
    size_t n = 99999;
    assert_int_equal(iface_enumerate(got, IFACE_ADDRS_MAX, &n), 0);
    assert_true(n <= IFACE_ADDRS_MAX);
    for (size_t i = 0; i < n; i++) {
        assert_true(got[i].addr.family == NTK_ADDR_V4 || got[i].addr.family == NTK_ADDR_V6);
        assert_true(strnlen(got[i].name, IFACE_NAME_MAX) < IFACE_NAME_MAX);
        assert_int_equal(got[i].addr.port, 0);
    }
    size_t one = 0;
    assert_int_equal(iface_enumerate(got, 1, &one), 0);
    assert_true(one <= 1);
}

int main(void)
{
    tu_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_table),          cmocka_unit_test(t_build_errors),
        cmocka_unit_test(t_helpers),        cmocka_unit_test(t_shared_address),
        cmocka_unit_test(t_overflow),       cmocka_unit_test(t_prop_only_x),
        cmocka_unit_test(t_prop_last_wins), cmocka_unit_test(t_enumerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
