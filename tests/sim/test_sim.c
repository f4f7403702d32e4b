/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests of the simulator's event loop with the real engine: runs replay bit for bit, the
 * engine measures exactly the offset and delay the models put in, and every datagram is
 * accounted for. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios.h"
#include "sim.h"

#include "poison.h"

static void run(const char *name, uint64_t seed, double hours, struct sim_result *r)
{
    struct sim_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = name;
    scn_find(name)->spec(&spec);
    struct sim_opts o = {.seed = seed, .hours = hours};
    assert_int_equal(sim_run(&spec, &o, r), 0);
}

static void runs_replay_exactly(void **state)
{
    (void)state;
    struct sim_result a, b, c;
    run("spiky", 7, 2.0, &a);
    run("spiky", 7, 2.0, &b);
    run("spiky", 8, 2.0, &c);
    assert_int_equal(a.n, 7200);
    assert_int_equal(b.n, a.n);
    assert_memory_equal(a.offset_s, b.offset_s, a.n * sizeof *a.offset_s);
    assert_int_equal(a.tr[0].n, b.tr[0].n);
    for (size_t j = 0; j < a.tr[0].n; j++) {
        assert_true(a.tr[0].ev[j].t_s == b.tr[0].ev[j].t_s);
        assert_int_equal(a.tr[0].ev[j].kind, b.tr[0].ev[j].kind);
    }
    assert_true(memcmp(a.offset_s, c.offset_s, a.n * sizeof *a.offset_s) != 0);
    sim_result_free(&a);
    sim_result_free(&b);
    sim_result_free(&c);
}

/* Constant symmetric delays, a clock 3 ms ahead that never drifts, the engine observing
 * only: every sample must show exactly -3 ms, and 2 x 100 us of delay (the server's 5 us
 * between T2 and T3 taken out). */
static void engine_measures_what_the_models_say(void **state)
{
    (void)state;
    struct sim_spec spec = {.name = "exact", .nservers = 1, .drifter = -1, .observe = true};
    spec.client.offset_s = 3e-3;
    spec.servers[0].up.base_s = 100e-6;
    spec.servers[0].down.base_s = 100e-6;
    struct sim_opts o = {.seed = 1, .hours = 0.5};
    struct sim_result r;
    assert_int_equal(sim_run(&spec, &o, &r), 0);
    assert_int_equal(r.clk.step + r.clk.slew + r.clk.set_freq + r.clk.set_leap, 0);
    assert_true(r.ctr.received > 0);
    assert_true(fabs(r.assoc[0].offset_s - -3e-3) < 2e-9);
    assert_true(fabs(r.assoc[0].delay_s - 200e-6) < 2e-9);
    /* the clock never moved: the error is the start offset all along */
    assert_true(r.offset_s[0] == 3e-3);
    assert_true(r.offset_s[r.n - 1] == 3e-3);
    sim_result_free(&r);
}

/* Without loss every request is answered, and every answer reaches the engine. */
static void every_datagram_is_accounted_for(void **state)
{
    (void)state;
    struct sim_result r;
    run("lan", 3, 3.0, &r);
    size_t req = 0, rep = 0;
    for (size_t j = 0; j < r.tr[0].n; j++) {
        req += r.tr[0].ev[j].kind == SIM_TR_REQUEST;
        rep += r.tr[0].ev[j].kind == SIM_TR_REPLY;
    }
    assert_true(req > 6); /* the iburst at least */
    assert_int_equal(r.srv[0].requests, req);
    assert_int_equal(r.srv[0].replies, req);
    assert_int_equal(rep, req);
    assert_int_equal(r.ctr.received, rep);
    assert_int_equal(r.assoc[0].sent, req);
    sim_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_replay_exactly),
        cmocka_unit_test(engine_measures_what_the_models_say),
        cmocka_unit_test(every_datagram_is_accounted_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
