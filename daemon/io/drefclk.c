/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's reference clocks (issue 12): opens each configured refclock after the sockets (the
 * SHM segment, the SOCK socket, the PPS device), registers it with the engine, then reads SHM
 * and PPS once a second from a loop timer and SOCK when its socket is readable, handing
 * every sample or fault to the engine. The decoding is rc_shm.c, rc_sock.c and rc_pps.c. */
#include "daemon_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clk_linux.h"
#include "log.h"
#include "ntk/err.h"
#include "ntk/sb.h"
#include "refclock.h"

#include "poison.h"

/* Most SOCK datagrams taken per wake-up (the rest wait for the next round). */
#define RC_SOCK_BURST 32

/* One refclock being read. */
struct rc_dev {
    struct ntpd *d;
    const struct conf_refclock *conf; /* its line (d->conf outlives it) */
    uint32_t id;                      /* the engine's association id */
    char name[16];                    /* "SHM(0)" for the log */
    volatile struct rc_shm_time *shm; /* SHM: the attached segment (NULL: none) */
    void *shm_base;                   /* the same, as shmat returned it (for shmdt) */
    int fd;                           /* SOCK: the socket; PPS: the device (-1: none) */
    uint32_t pps_seq;                 /* PPS: the last edge's sequence taken */
    bool bound;                       /* SOCK: we bound conf->path */
    bool kc_bound;                    /* PPS: we bound the edge to the kernel's hardpps */
    uint64_t notready;                /* reads with nothing new (not a fault: NTPsec) */
};

/* Every refclock of the daemon (one daemon per process). */
static struct {
    struct rc_dev dev[CONF_REFCLOCKS_MAX];
    size_t n;
    int64_t timer; /* the once-a-second read (0: none) */
} rcs;

/* ---- results to the engine ---- */

static void hand_over(struct rc_dev *r, const struct rc_result *res)
{
    struct eng_now now = daemon_now();
    if (res->fault == ENG_RC_NOREPLY) {
        r->notready++; /* a poll without samples is the engine's noreply */
        return;
    }
    if (res->fault != 0) {
        log_msg(LOG_DEBUG, "refclock %s: %s", r->name, res->why);
        eng_on_refclock_fault(r->d->eng, r->id, (enum eng_rc_fault)res->fault);
        return;
    }
    int rc = eng_on_refclock_sample(r->d->eng, r->id, &res->s, &now);
    if (rc != 0)
        log_msg(LOG_DEBUG, "refclock %s: sample refused (%s): %s", r->name, ntk_strerror(rc),
                res->s.timecode);
    daemon_drain_actions(r->d);
}

/* ---- SHM ---- */

static void read_shm(struct rc_dev *r)
{
    struct rc_shm_snap snap;
    struct rc_result res;
    rc_shm_fetch(r->shm, &snap);
    /* flag1: skip the difference limit (NTPsec's SHM). */
    double maxdelta = r->conf->cfg.flags & 1 ? 0 : RC_SHM_MAXDELTA_S;
    rc_shm_decode(&snap, maxdelta, &res);
    hand_over(r, &res);
}

/* Checks the segment's owner and permissions: units 0 and 1 must be writable by their owner
 * only, and that owner root or us (gpsd as root writes them; anyone else could lie). */
static int check_shm_perm(struct rc_dev *r, int shmid)
{
    struct shmid_ds ds;
    if (shmctl(shmid, IPC_STAT, &ds) != 0) {
        log_msg(LOG_ERR, "refclock %s: shmctl IPC_STAT: %s", r->name, strerror(errno));
        return -1;
    }
    if (ds.shm_segsz < sizeof(struct rc_shm_time)) {
        log_msg(LOG_ERR, "refclock %s: segment of %zu bytes, not a struct shmTime (%zu)",
                r->name, (size_t)ds.shm_segsz, sizeof(struct rc_shm_time));
        return -1;
    }
    unsigned mode = (unsigned)ds.shm_perm.mode & 0777u;
    bool owner_ok = ds.shm_perm.uid == 0 || ds.shm_perm.uid == geteuid();
    if (r->conf->cfg.unit < RC_SHM_PRIVATE_UNITS && ((mode & 0022u) != 0 || !owner_ok)) {
        log_msg(LOG_ERR,
                "refclock %s: refusing segment 0x%08x: mode %04o owner uid %u (units 0 and 1 "
                "must be 0600 and root's)",
                r->name, (unsigned)(RC_SHM_KEY + r->conf->cfg.unit), mode,
                (unsigned)ds.shm_perm.uid);
        return -1;
    }
    return 0;
}

static int open_shm(struct rc_dev *r)
{
    unsigned unit = r->conf->cfg.unit;
    key_t key = (key_t)(RC_SHM_KEY + unit);
    int perm = unit < RC_SHM_PRIVATE_UNITS ? 0600 : 0666;
    /* Created if absent, as NTPsec does, so that gpsd started later attaches to it. */
    int shmid = shmget(key, sizeof(struct rc_shm_time), IPC_CREAT | perm);
    if (shmid < 0) {
        log_msg(LOG_ERR, "refclock %s: shmget 0x%08x: %s", r->name, (unsigned)key,
                strerror(errno));
        return -1;
    }
    if (check_shm_perm(r, shmid) != 0)
        return -1;
    void *p = shmat(shmid, NULL, 0);
    if (p == (void *)-1) {
        log_msg(LOG_ERR, "refclock %s: shmat: %s", r->name, strerror(errno));
        return -1;
    }
    r->shm = p;
    r->shm_base = p;
    log_msg(LOG_INFO, "refclock %s: shared memory segment 0x%08x attached", r->name,
            (unsigned)key);
    return 0;
}

/* ---- SOCK ---- */

static void on_sock(void *ctx, int fd)
{
    struct rc_dev *r = ctx;
    for (int i = 0; i < RC_SOCK_BURST; i++) {
        uint8_t buf[sizeof(struct rc_sock_sample) + 1];
        /* MSG_TRUNC: the datagram's real length, so a longer one is not taken as good. */
        ssize_t n = recv(fd, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
        if (n < 0)
            return; /* EAGAIN: all read */
        struct rc_result res;
        rc_sock_decode(buf, (size_t)n, &res);
        hand_over(r, &res);
    }
}

static int open_sock(struct rc_dev *r)
{
    const char *path = r->conf->path;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        log_msg(LOG_ERR, "refclock %s: path %s is longer than %zu bytes", r->name, path,
                sizeof sa.sun_path - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    /* A socket left by an earlier run is replaced (chrony does the same); anything else is
     * not ours to remove. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        (void)unlink(path);
    r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->fd < 0 || bind(r->fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
        log_msg(LOG_ERR, "refclock %s: cannot bind %s: %s", r->name, path, strerror(errno));
        return -1;
    }
    r->bound = true;
    if (loop_add_fd(r->d->loop, r->fd, on_sock, r) != 0) {
        log_msg(LOG_ERR, "refclock %s: the loop is full", r->name);
        return -1;
    }
    log_msg(LOG_INFO, "refclock %s: listening on %s", r->name, path);
    return 0;
}

/* ---- PPS ---- */

static void read_pps(struct rc_dev *r)
{
    struct pps_fdata fd;
    memset(&fd, 0, sizeof fd); /* a zero timeout: do not wait for an edge */
    if (ioctl(r->fd, PPS_FETCH, &fd) != 0) {
        struct rc_result res = {.fault = ENG_RC_BADDATA, .why = "PPS_FETCH failed"};
        hand_over(r, &res);
        return;
    }
    struct rc_pps_edges e = {
        .assert_seq = fd.info.assert_sequence,
        .clear_seq = fd.info.clear_sequence,
        .assert_ts = {.tv_sec = (time_t)fd.info.assert_tu.sec,
                      .tv_nsec = fd.info.assert_tu.nsec},
        .clear_ts = {.tv_sec = (time_t)fd.info.clear_tu.sec, .tv_nsec = fd.info.clear_tu.nsec},
    };
    struct rc_result res;
    rc_pps_decode(&e, r->conf->cfg.flags & 2, &r->pps_seq, &res); /* flag2: clear edge */
    hand_over(r, &res);
}

/* flag3: the edge to the kernel's hardpps (NTPsec's kernel PPS), never in observe mode: the
 * binding, then STA_PPSFREQ | STA_PPSTIME through the clock driver (set_pps), which its
 * set_freq keeps from then on. A failure is logged and the pulses still go through the
 * engine, as NTPsec does. */
static void bind_hardpps(struct rc_dev *r, const char *path)
{
    struct pps_bind_args ba;
    switch (rc_pps_kernel_args(r->conf->cfg.flags, r->d->eng_observe, &ba)) {
    case RC_PPS_KERNEL_OFF:
        return;
    case RC_PPS_KERNEL_SKIPPED:
        log_msg(LOG_NOTICE,
                "refclock %s: flag3 (kernel hardpps) skipped in observe mode: it would "
                "discipline the kernel clock",
                r->name);
        return;
    case RC_PPS_KERNEL_BIND:
        break;
    }
    if (ioctl(r->fd, PPS_KC_BIND, &ba) != 0) {
        log_msg(LOG_ERR, "refclock %s: %s: PPS_KC_BIND (kernel hardpps): %s", r->name, path,
                strerror(errno));
        return;
    }
    r->kc_bound = true;
    const struct ntk_clk_ops *clk = ntk_clk_linux();
    int rc = clk->set_pps != NULL ? clk->set_pps(clk->ctx, 1) : -ENOTSUP;
    log_msg(rc == 0 ? LOG_INFO : LOG_ERR,
            "refclock %s: %s edge bound to the kernel's hardpps; kernel PPS discipline "
            "(STA_PPSFREQ, STA_PPSTIME): %s",
            r->name, ba.edge == PPS_CAPTURECLEAR ? "clear" : "assert",
            rc == 0 ? "on" : strerror(-rc));
}

static int open_pps(struct rc_dev *r)
{
    char dflt[32];
    struct ntk_sb sb;
    ntk_sb_init(&sb, dflt, sizeof dflt);
    ntk_sb_printf(&sb, "/dev/pps%u", (unsigned)r->conf->cfg.unit);
    const char *path = r->conf->path[0] ? r->conf->path : dflt;
    r->fd = open(path, O_RDWR | O_CLOEXEC);
    if (r->fd < 0) {
        log_msg(LOG_ERR,
                "refclock %s: cannot open %s: %s (no PPS device: the refclock is "
                "not started)",
                r->name, path, strerror(errno));
        return -1;
    }
    int caps = 0;
    bool clear = r->conf->cfg.flags & 2;
    int want = clear ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT;
    struct pps_kparams kp = {.api_version = PPS_API_VERS, .mode = want | PPS_TSFMT_TSPEC};
    if (ioctl(r->fd, PPS_GETCAP, &caps) != 0 || !(caps & want) ||
        ioctl(r->fd, PPS_SETPARAMS, &kp) != 0) {
        log_msg(LOG_ERR, "refclock %s: %s: cannot capture the %s edge: %s", r->name, path,
                clear ? "clear" : "assert", errno ? strerror(errno) : "not supported");
        return -1;
    }
    bind_hardpps(r, path);
    log_msg(LOG_INFO, "refclock %s: %s opened (%s edge)", r->name, path,
            clear ? "clear" : "assert");
    return 0;
}

/* ---- the timer and the set ---- */

static void on_rc_timer(void *ctx, int64_t now_mono_ns)
{
    (void)ctx;
    for (size_t i = 0; i < rcs.n; i++) {
        struct rc_dev *r = &rcs.dev[i];
        if (r->shm != NULL)
            read_shm(r);
        else if (r->conf->cfg.type == ENG_RC_PPS && r->fd >= 0)
            read_pps(r);
    }
    rcs.timer = loop_timer(rcs.dev[0].d->loop, now_mono_ns + 1000000000LL, on_rc_timer, NULL);
}

static void close_dev(struct rc_dev *r)
{
    if (r->kc_bound) {
        struct pps_bind_args ba;
        rc_pps_unbind_args(&ba);
        if (ioctl(r->fd, PPS_KC_BIND, &ba) != 0)
            log_msg(LOG_WARNING, "refclock %s: unbinding the kernel's hardpps: %s", r->name,
                    strerror(errno));
        r->kc_bound = false;
        const struct ntk_clk_ops *clk = ntk_clk_linux();
        if (clk->set_pps != NULL)
            (void)clk->set_pps(clk->ctx, 0);
    }
    if (r->fd >= 0) {
        loop_del_fd(r->d->loop, r->fd);
        close(r->fd);
        r->fd = -1;
        /* The socket we bound goes with us, as chrony's does (a failure, e.g. after the
         * privilege drop, leaves it for the next start to replace). */
        if (r->bound)
            (void)unlink(r->conf->path);
        r->bound = false;
    }
    if (r->shm != NULL)
        (void)shmdt(r->shm_base);
    r->shm = NULL;
}

/* Opens refclock line c and registers it; 0, or -1 (logged; the refclock is left out). */
static int open_one(struct ntpd *d, const struct conf_refclock *c)
{
    struct rc_dev *r = &rcs.dev[rcs.n];
    *r = (struct rc_dev){.d = d, .conf = c, .fd = -1};
    struct ntk_sb sb;
    ntk_sb_init(&sb, r->name, sizeof r->name);
    ntk_sb_printf(&sb, "%s(%u)", rc_type_name(c->cfg.type), (unsigned)c->cfg.unit);
    int rc = c->cfg.type == ENG_RC_SHM    ? open_shm(r)
             : c->cfg.type == ENG_RC_SOCK ? open_sock(r)
                                          : open_pps(r);
    if (rc != 0) {
        close_dev(r);
        return -1;
    }
    struct eng_now now = daemon_now();
    int id = eng_add_refclock(d->eng, &c->cfg, &now);
    if (id < 0) {
        log_msg(LOG_ERR, "refclock %s (line %u): the engine refused it: %s", r->name,
                (unsigned)c->line, ntk_strerror(id));
        close_dev(r);
        return -1;
    }
    r->id = (uint32_t)id;
    rcs.n++;
    return 0;
}

int drefclk_open(struct ntpd *d)
{
    memset(&rcs, 0, sizeof rcs);
    for (size_t i = 0; i < d->conf.n_refclocks; i++)
        (void)open_one(d, &d->conf.refclocks[i]);
    if (rcs.n > 0) {
        rcs.timer = loop_timer(d->loop, loop_now_mono_ns() + 1000000000LL, on_rc_timer, NULL);
        daemon_drain_actions(d);
    }
    return 0;
}

void drefclk_free(struct ntpd *d)
{
    (void)d;
    for (size_t i = 0; i < rcs.n; i++)
        close_dev(&rcs.dev[i]);
    rcs.n = 0;
}
