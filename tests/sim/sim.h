/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulator's event loop: drives ntkcore through engine.h exactly as ntpd's shell does,
 * against a simulated clock (simclk), network (simnet) and servers (simsrv), on a true-time
 * axis, and measures how well the local clock keeps time.
 *
 * Events, in true time: the engine's deadline (eng_next_deadline on the local monotonic
 * axis, mapped back to true time through the clock's present rate), datagrams arriving
 * (at a server, or back at the client), the true leap second, and a 1 s grid on which the
 * clock's wander is drawn and the metrics sampled. Every eng_on_* call gets struct eng_now
 * from the simulated clock; after every call eng_pop_action is drained: SEND goes through
 * the network to the server and back into eng_on_packet with rx = the local clock at
 * arrival (ENG_RX_KERNEL); EVENT is counted (and logged with -v); EXIT ends the run.
 */
#ifndef NTK_SIM_H
#define NTK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "simclk.h"
#include "simnet.h"
#include "simsrv.h"
#include "snap.h"

#define SIM_SERVERS_MAX 4
/* True UTC at the start of every run: 2026-06-30T18:00:00Z, so that a UTC midnight (where a
 * leap second can be) comes 6 h in. */
#define SIM_EPOCH_UNIX_S 1782842400LL
#define SIM_LEAP_AT_S    21600.0
/* Steady-state metrics leave out the first hour (as the chrony figures do). */
#define SIM_WARMUP_S 3600.0
#define SIM_EVENTS   (ENG_EV_CLOCK_ERROR + 1)

/* One server and the path to it. */
struct sim_server_spec {
    struct simnet_dir up;   /* client -> server */
    struct simnet_dir down; /* server -> client */
    struct simsrv_cfg srv;  /* the server */
    bool prefer;            /* `prefer` on its server line */
};

/* A reference clock (issue 12), fed through eng_on_refclock_sample once per true second
 * (at the whole second of true UTC), unit 0, the driver's defaults otherwise. */
struct sim_refclock_spec {
    bool on;               /* configure one */
    enum eng_rc_type type; /* ENG_RC_SHM / _SOCK: ref = true UTC of the event plus offset_s;
                              ENG_RC_PPS: an edge at each true second, ref zero */
    double jitter_s;       /* standard deviation of the normal error of each sample's local
                              timestamp (the receiver's and the kernel's latency) */
    double offset_s;       /* SHM / SOCK: the reference's time minus true time */
    double silent_to_s;    /* no sample before this true time (0: from the start) */
};

/* The client's clock. */
struct sim_client_spec {
    double offset_s; /* local minus true time at the start */
    double freq_ppm; /* frequency error */
    double wander;   /* random walk of the frequency: its standard deviation grows by this
                        fraction per sqrt(second) (1e-10 = 1e-4 ppm a second) */
};

/* A scenario. */
struct sim_spec {
    const char *name;
    struct sim_client_spec client;
    int nservers;
    struct sim_server_spec servers[SIM_SERVERS_MAX];
    bool leap;    /* true UTC inserts a leap second at SIM_LEAP_AT_S */
    int drifter;  /* the server whose true offset is recorded while selected (-1: none) */
    bool observe; /* run the engine in observe mode (it never calls the clock) */
    struct sim_refclock_spec rc; /* a reference clock (rc.on); nservers may then be 0 */
};

/* How to run it. */
struct sim_opts {
    uint64_t seed; /* every random stream derives from it */
    double hours;  /* simulated time */
    FILE *log;     /* -v: events and steps are written here (NULL: quiet) */
};

/* What happened on a server's path, for the checks. */
enum sim_trace_kind {
    SIM_TR_REQUEST = 0, /* the engine sent a request */
    SIM_TR_REPLY,       /* a normal reply reached the engine */
    SIM_TR_KISS,        /* a kiss-o'-death reached the engine */
};

/* One entry of a trace. */
struct sim_trace_ev {
    double t_s;               /* true time */
    enum sim_trace_kind kind; /* what */
};

/* A server's trace, in time order. */
struct sim_trace {
    struct sim_trace_ev *ev; /* malloc'd; freed by sim_result_free */
    size_t n;                /* entries */
    size_t cap;              /* room */
};

/* The summary (steady state = after SIM_WARMUP_S). */
struct sim_metrics {
    double rms_offset_s;   /* RMS of local minus true time, steady state */
    double max_offset_s;   /* max |offset|, steady state */
    double rms_freq_ppm;   /* RMS of the frequency error (each second's mean), steady state */
    double settle_1ms_s;   /* from when |offset| stays <= 1 ms to the end (-1: never) */
    double settle_100us_s; /* the same for 100 us */
    double pkts_per_day;   /* requests per day to the busiest server, steady state (NaN
                              when the run ended within the first hour) */
    double synced_frac;    /* share of the steady state the kernel was told "synced" */
    unsigned steps;        /* steps made */
    double
        drifter_off_s;   /* the drifter's true offset when it was last combined (NaN: never) */
    double drifter_t_s;  /* when (NaN: never) */
    double rc_peer_frac; /* share of the steady state the refclock was the system peer ('*'
                            or 'o') */
};

/* The refclock bit of sim_result.combined: it was the system peer ('*' or 'o'). */
#define SIM_COMBINED_RC 0x80

/* Everything measured in one run. */
struct sim_result {
    size_t n;          /* samples: one per true second, t = 0 .. n-1 */
    double *offset_s;  /* local minus true UTC (NaN: the leap second's own sample) */
    double *freq_ppm;  /* mean frequency error over the second before */
    uint8_t *synced;   /* the kernel's sync status */
    uint8_t *combined; /* bit i: server i was combined ('*' or '+') */
    struct sim_trace tr[SIM_SERVERS_MAX];
    struct sim_metrics m;
    struct simclk_stats clk;                    /* clock calls */
    struct simclk_step steps[SIMCLK_STEPS_MAX]; /* steps with their time */
    uint64_t step_updates[SIMCLK_STEPS_MAX];    /* the engine's update count after each */
    struct simsrv_stats srv[SIM_SERVERS_MAX];
    unsigned events[SIM_EVENTS]; /* ENG_ACT_EVENT by enum eng_event */
    unsigned leap_inserts;       /* ENG_EV_LEAP_ARMED events with value +1 */
    struct snap_system sys;      /* at the end */
    struct snap_counters ctr;    /* at the end */
    struct snap_assoc assoc[SIM_SERVERS_MAX];
    bool exited;     /* the engine asked to exit */
    int exit_status; /* its status */
    /* refclock samples handed to the engine: */
    unsigned rc_accepted;     /* eng_on_refclock_sample returned 0 */
    unsigned rc_refused;      /* ... NTK_ERANGE (panic threshold, PPS not numbered) */
    double rc_first_accept_s; /* true time of the first accepted one (NaN: none) */
    double rc_last_refuse_s;  /* ... of the last refused one (NaN: none) */
    uint32_t rc_id;           /* its association id (0: none) */
    bool failed;              /* the run could not complete (error says why) */
    char error[160];
};

/* Runs spec with o into *r (zeroed first; free with sim_result_free). Returns 0, or -1 when
 * the run could not complete (r->error says why; what was measured so far is kept). */
int sim_run(const struct sim_spec *spec, const struct sim_opts *o, struct sim_result *r);

/* Frees what sim_run allocated. */
void sim_result_free(struct sim_result *r);

/* RMS and max |offset| of the samples in [from_s, to_s) (NaN samples skipped; 0 if none). */
double sim_rms_offset(const struct sim_result *r, double from_s, double to_s);
double sim_max_offset(const struct sim_result *r, double from_s, double to_s);

/* The time from which |offset| stays within thr_s to the end of the run, looking only at
 * samples from from_s on: from_s when all are, -1 when the last one is not. */
double sim_settle(const struct sim_result *r, double thr_s, double from_s);

/* Requests sent to server i in [from_s, to_s). */
size_t sim_requests(const struct sim_result *r, int i, double from_s, double to_s);

/* Writes the per-second series as CSV lines "scenario,t_s,offset_s,freq_ppm,synced,
 * combined" (header when header is true). */
void sim_write_csv(const struct sim_result *r, const char *name, FILE *f, bool header);

#endif /* NTK_SIM_H */
