/* SPDX-License-Identifier: BSD-2-Clause */
/* What ntpd's mode-6 variables are read from (struct ctlv_src): the engine's snapshot, the
 * server's counters, uname, the kernel clock state read with ntp_adjtime(modes 0), the leap
 * table, setvar / -z / -Z and the shell's counters. */
#include <string.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>

#include "daemon_internal.h"
#include "loop.h"
#include "ntk/sb.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

/* uname, once per daemon: it does not change while ntpd runs. */
static void take_uname(struct ntpd *d)
{
    if (d->ctlv_uname_done)
        return;
    d->ctlv_uname_done = true;
    struct utsname u;
    if (uname(&u) != 0)
        return; /* the strings stay "" */
    struct ntk_sb sb;
    ntk_sb_init(&sb, d->ctlv_machine, sizeof d->ctlv_machine);
    ntk_sb_puts(&sb, u.machine);
    ntk_sb_init(&sb, d->ctlv_sysname, sizeof d->ctlv_sysname);
    ntk_sb_puts(&sb, u.sysname);
    ntk_sb_init(&sb, d->ctlv_release, sizeof d->ctlv_release);
    ntk_sb_puts(&sb, u.release);
}

/* The kernel's scaled ppm (16-bit binary fraction) as ppm. */
static double scaled_ppm(long v)
{
    return (double)v / 65536.0;
}

/* Reads the kernel clock state. modes is 0, so ntp_adjtime only reads (adjtimex(2)). */
static void read_kernel(struct ctlv_kernel *k)
{
    memset(k, 0, sizeof *k);
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = 0; /* read only: never set anything */
    if (ntp_adjtime(&tx) < 0)
        return;                                        /* valid stays false, all zero */
    double sub = (tx.status & STA_NANO) ? 1e-9 : 1e-6; /* offset and jitter units */
    k->valid = true;
    k->offset_s = (double)tx.offset * sub;
    k->freq_ppm = scaled_ppm(tx.freq);
    k->maxerror_s = (double)tx.maxerror * 1e-6;
    k->esterror_s = (double)tx.esterror * 1e-6;
    k->status = (unsigned)tx.status;
    k->constant = tx.constant;
    k->precision_s = (double)tx.precision * 1e-6;
    k->tolerance_ppm = scaled_ppm(tx.tolerance);
    k->pps_freq_ppm = scaled_ppm(tx.ppsfreq);
    k->pps_jitter_s = (double)tx.jitter * sub;
    k->pps_shift = tx.shift;
    k->pps_stabil_ppm = scaled_ppm(tx.stabil);
    k->pps_calcnt = tx.calcnt;
    k->pps_errcnt = tx.errcnt;
    k->pps_jitcnt = tx.jitcnt;
    k->pps_stbcnt = tx.stbcnt;
}

/* setvar lines, then -z / -Z "name=value" (the name copied, the value borrowed). */
static size_t take_setvars(const struct ntpd *d, struct dctl_src_store *st)
{
    size_t n = 0;
    for (size_t i = 0; i < d->conf.n_setvars && i < CONF_SETVARS_MAX; i++) {
        const struct conf_setvar *v = &d->conf.setvars[i];
        st->setvars[n++] = (struct ctlv_setvar){v->name, v->value, v->dflt};
    }
    for (int i = 0; i < d->opts.nsetvars && i < OPTS_LIST_MAX; i++) {
        const char *z = d->opts.setvars[i];
        const char *eq = z != NULL ? strchr(z, '=') : NULL;
        size_t len = eq != NULL ? (size_t)(eq - z) : 0;
        while (len > 0 && z[len - 1] == ' ')
            len--;
        if (len == 0 || len > NTK_CVAR_NAME_MAX)
            continue;
        memcpy(st->znames[i], z, len);
        st->znames[i][len] = '\0';
        const char *val = eq + 1;
        while (*val == ' ')
            val++;
        st->setvars[n++] = (struct ctlv_setvar){st->znames[i], val, d->opts.setvar_default[i]};
    }
    return n;
}

/* The local address of a client socket (the wildcard and its port), or none. */
static struct ntk_addr sock_local(int fd)
{
    struct ntk_addr a = {0};
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        (void)ntk_addr_from_sockaddr(&a, (const struct sockaddr *)&ss, len);
    return a;
}

/* The server's, the engine's and the sockets' counters the shell has. */
static void take_io(const struct ntpd *d, struct dctl_src_store *st)
{
    struct ctlv_io *io = &st->io;
    memset(io, 0, sizeof *io);
    io->received = d->srv.st.received + st->ctr.received;
    io->dropped = d->nic_dropped;
    io->sent = d->io_sent;
    io->send_failed = d->io_send_failed;
    io->wakeups = d->io_wakeups;
    io->good_wakeups = d->io_good_wakeups;
    io->ctl_requests = d->srv.st.control;
    io->auth_keys = d->keys != NULL ? ntk_mac_keys_count(d->keys) : 0;
}

/* The mru line's limits, as make_server (daemon.c) applies them. */
static void take_mru(const struct ntpd *d, struct dctl_src_store *st, struct ctlv_src *out)
{
    struct mru_cfg *mc = &st->mru_cfg;
    mru_cfg_default(mc);
    if (d->conf.mru.maxmem_kib)
        mc->maxmem_kib = d->conf.mru.maxmem_kib;
    if (d->conf.mru.maxdepth)
        mc->maxdepth = d->conf.mru.maxdepth;
    if (d->conf.mru.minage_s)
        mc->minage_s = d->conf.mru.minage_s;
    if (d->conf.mru.maxage_s)
        mc->maxage_s = d->conf.mru.maxage_s;
    out->mru_cfg = mc;
    if (d->mru == NULL)
        return;
    mru_get_stats(d->mru, &st->mru);
    out->mru = &st->mru;
    if (d->srv.mru != NULL) { /* `disable monitor` leaves it out of the server */
        out->mru_enabled = 1;
        struct rst_rule r;
        for (size_t i = 0; d->rst != NULL && rst_get(d->rst, i, &r); i++)
            if (r.flags & RST_LIMITED)
                out->mru_enabled |= 2;
    }
    out->mru_entries = mru_count(d->mru);
    out->mru_capacity = mru_capacity(d->mru);
}

/* The counters as of the last hourly sysstats line (dstats.c keeps them). */
static void take_reset(const struct ntpd *d, struct ctlv_src *out)
{
    const struct stats_sys *b = &d->stats.sys_base;
    out->ss_reset = (struct ctlv_ss){
        .received = b->received,
        .processed = b->processed,
        .thisver = b->newversion,
        .oldver = b->oldversion,
        .badformat = b->badlength,
        .badauth = b->badauth,
        .declined = b->declined,
        .restricted = b->restricted,
        .limited = b->limitrejected,
        .kodsent = b->kodsent,
        .ver1 = b->ver1,
        .ver1client = b->ver1client,
        .ver1zero = b->ver1zero,
        .ver1symm = b->ver1symm,
    };
    out->start_mono_ns = d->stats.start_mono_ns;
    out->reset_mono_ns = d->stats.sys_last_mono_ns;
}

void dctl_fill_src(struct ntpd *d, struct ctlv_src *out, struct dctl_src_store *st)
{
    memset(out, 0, sizeof *out);
    take_uname(d);
    out->now_mono_ns = loop_now_mono_ns();
    clock_gettime(CLOCK_REALTIME, &out->now);
    size_t n = 0;
    memset(&st->sys, 0, sizeof st->sys);
    memset(&st->ctr, 0, sizeof st->ctr);
    if (d->eng != NULL)
        n = eng_snap(d->eng, out->now_mono_ns, &st->sys, &st->ctr, st->assocs,
                     DCTLSRC_ASSOCS_MAX);
    out->nassocs = n < DCTLSRC_ASSOCS_MAX ? n : DCTLSRC_ASSOCS_MAX;
    struct ntk_addr l4 = sock_local(d->cli_fd4), l6 = sock_local(d->cli_fd6);
    for (size_t i = 0; i < out->nassocs; i++) {
        /* NTPsec's dstadr: the address the server's replies come to (ours are sent from a
         * wildcard socket, so the kernel's choice: known once a reply came), the port ours. */
        st->local[i] = st->assocs[i].addr.family == NTK_ADDR_V6 ? l6 : l4;
        const struct ntk_addr *seen = dclient_local_of(d, &st->assocs[i].addr);
        if (seen != NULL) {
            uint16_t port = st->local[i].port;
            st->local[i] = *seen;
            st->local[i].port = port;
        }
    }
    out->sys = &st->sys;
    out->ctr = &st->ctr;
    out->assocs = st->assocs;
    out->local = st->local;
    out->srv = &d->srv.st;
    take_reset(d, out);
    take_mru(d, st, out);
    take_io(d, st);
    out->io = &st->io;
    read_kernel(&st->kern);
    out->kern = &st->kern;
    out->leap = d->leap.n > 0 ? &d->leap : NULL;
    dnts_fill_ctlv(d, &st->ctr, &st->nts);
    out->nts = &st->nts;
    out->nsetvars = take_setvars(d, st);
    out->setvars = st->setvars;
    struct ntk_sb sb;
    ntk_sb_init(&sb, st->version, sizeof st->version);
    ntk_sb_puts(&sb, "ntpd ntpkit-" NTK_VERSION);
    out->version = st->version;
    out->processor = d->ctlv_machine;
    out->system = d->ctlv_sysname;
    out->release = d->ctlv_release;
}
