/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's input (see cap_io.h): libpcap files and live handles, the BPF filter, -w, and the
 * privilege drop between opening the interface and reading its first frame. */
#include "cap_io.h"

#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cap_decode.h"
#include "cap_out.h"
#include "cap_pipe.h"
#include "cap_sandbox.h"
#include "cli_log.h"

#include "poison.h"

/* Set by cap_io_stop (a signal handler). */
static volatile sig_atomic_t stop_requested;
/* The open handle, for cap_io_stop: pcap_breakloop wakes a read blocked in poll (libpcap
 * 1.10 signals an eventfd), which a read timeout does not do on an idle interface. */
static pcap_t *volatile active;

void cap_io_stop(void)
{
    stop_requested = 1;
    pcap_t *p = active;
    if (p != NULL) {
        pcap_breakloop(p);
    }
}

/* SIGALRM: --duration of a live capture is over. */
static void on_alarm(int sig)
{
    (void)sig;
    cap_io_stop();
}

/* Arms a one-shot timer for --duration (live): an idle interface delivers no frame that
 * could end the loop. Returns 0 or 1 (printed). */
static int arm_duration(double seconds)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)seconds;
    it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0) {
        it.it_value.tv_usec = 1;
    }
    if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &it, NULL) != 0) {
        cli_err("--duration: cannot arm the timer: %s", strerror(errno));
        return 1;
    }
    return 0;
}

/* libpcap's DLT_ value as the core's enum cap_link (raw IP has several DLT_ numbers: 12 on
 * Linux, 14 on OpenBSD, 101 as the file link type, 228/229 for IPv4/IPv6 only). Returns -1
 * for a link type the core does not decode. */
static int core_link(int dlt)
{
    switch (dlt) {
    case DLT_NULL:
        return CAP_LINK_NULL;
    case DLT_EN10MB:
        return CAP_LINK_EN10MB;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
        return CAP_LINK_RAW;
    case 113:
        return CAP_LINK_LINUX_SLL;
    case 276:
        return CAP_LINK_LINUX_SLL2;
    default:
        return -1;
    }
}

/* stdio buffer of the capture file: libpcap reads each record with two freads, and with
 * the default 4 KiB buffer the read system calls were a tenth of a file's analysis. */
#define CAP_FILE_BUF (1U << 20)

/* Opens o->read_file ("-": standard input) with nanosecond time stamps. The FILE is ours so
 * that it gets a large buffer; libpcap closes it. */
static pcap_t *open_file(const struct cap_opts *o)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    bool std_in = strcmp(o->read_file, "-") == 0;
    FILE *f = std_in ? stdin : fopen(o->read_file, "rb");
    if (f == NULL) {
        cli_err("%s: %s", o->read_file, strerror(errno));
        return NULL;
    }
    (void)setvbuf(f, NULL, _IOFBF, CAP_FILE_BUF);
    /* Only the reader thread reads it: no lock per fread (glibc takes one per call once a
     * process has a second thread, and libpcap makes two calls per frame). */
    (void)__fsetlocking(f, FSETLOCKING_BYCALLER);
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL) {
        if (!std_in) {
            fclose(f);
        }
        /* libpcap names the file and the cause, and says when pcapng has several link
         * types or byte orders it cannot express (ntpcap(1), PCAPNG LIMITS). */
        cli_err("%s", err);
    }
    return p;
}

/* Applies the live settings before activation. Returns 0 or 1 (printed). */
static int configure_live(pcap_t *p, const struct cap_opts *o)
{
    int snaplen = o->snaplen > 0 ? o->snaplen : CAP_DEFAULT_SNAPLEN;
    if (pcap_set_snaplen(p, snaplen) != 0 || pcap_set_promisc(p, 1) != 0 ||
        pcap_set_timeout(p, 100) != 0) {
        cli_err("%s: cannot configure: %s", o->iface, pcap_geterr(p));
        return 1;
    }
    if (o->buffer_kib > 0 && pcap_set_buffer_size(p, o->buffer_kib * 1024) != 0) {
        cli_err("%s: -B %d: %s", o->iface, o->buffer_kib, pcap_geterr(p));
        return 1;
    }
    if (o->immediate && pcap_set_immediate_mode(p, 1) != 0) {
        cli_err("%s: --immediate-mode: %s", o->iface, pcap_geterr(p));
        return 1;
    }
    if (o->tstamp_type != NULL) {
        int t = pcap_tstamp_type_name_to_val(o->tstamp_type);
        if (t < 0) {
            cli_err(
                "-j %s: unknown time stamp type (host, host_lowprec, host_hiprec, adapter, "
                "adapter_unsynced)",
                o->tstamp_type);
            return 1;
        }
        int rc = pcap_set_tstamp_type(p, t);
        if (rc != 0) {
            cli_err("-j %s: %s", o->tstamp_type,
                    rc > 0 ? "not supported by this interface" : pcap_statustostr(rc));
            return 1;
        }
    }
    if (o->nano && pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) != 0) {
        cli_err("%s: --nano: nanosecond time stamps not supported", o->iface);
        return 1;
    }
    return 0;
}

/* Says why activation failed, with the fix for the common case of missing privileges. */
static void explain_activate(pcap_t *p, const char *iface, int rc)
{
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) {
        cli_err("%s: %s: live capture needs root or CAP_NET_RAW (and CAP_NET_ADMIN): run as "
                "root, or grant them (setcap cap_net_raw,cap_net_admin+ep ntpcap)",
                iface, pcap_geterr(p));
    } else if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
        cli_err("%s: no such interface", iface);
    } else {
        cli_err("%s: %s (%s)", iface, pcap_statustostr(rc), pcap_geterr(p));
    }
}

/* Creates and activates the live handle. */
static pcap_t *open_live(const struct cap_opts *o)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->iface, err);
    if (p == NULL) {
        cli_err("%s: %s", o->iface, err);
        return NULL;
    }
    if (configure_live(p, o) != 0) {
        pcap_close(p);
        return NULL;
    }
    int rc = pcap_activate(p);
    if (rc < 0) {
        explain_activate(p, o->iface, rc);
        pcap_close(p);
        return NULL;
    }
    if (rc > 0) {
        cli_err("%s: warning: %s (%s)", o->iface, pcap_statustostr(rc), pcap_geterr(p));
    }
    return p;
}

/* Compiles and installs the BPF expression. Returns 0 or 1 (printed). */
static int set_filter(pcap_t *p, const char *expr)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        if (strcmp(expr, CAP_DEFAULT_FILTER) == 0) {
            /* Link types without BPF support: the default only saves work, go without. */
            cli_err("the default filter does not apply to this link type (%s): reading every "
                    "frame",
                    pcap_geterr(p));
            return 0;
        }
        cli_err("filter '%s': %s", expr, pcap_geterr(p));
        return 1;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        cli_err("filter '%s': %s", expr, pcap_geterr(p));
        return 1;
    }
    return 0;
}

/* The user to become: the -Z argument, or "ntpcap" when it exists, else "nobody". */
static const char *default_user(const char *user)
{
    if (user != NULL) {
        return user;
    }
    return getpwnam("ntpcap") != NULL ? "ntpcap" : "nobody";
}

/* setgroups, setgid, setuid to pw, then checks that root cannot be regained. */
static int switch_user(const struct passwd *pw)
{
    gid_t gid = pw->pw_gid;
    if (setgroups(1, &gid) != 0) {
        cli_err("-Z %s: setgroups: %s", pw->pw_name, strerror(errno));
        return 1;
    }
    if (setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
        cli_err("-Z %s: setgid/setuid: %s", pw->pw_name, strerror(errno));
        return 1;
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != gid ||
        getegid() != gid || (pw->pw_uid != 0 && setuid(0) == 0)) {
        cli_err("-Z %s: the user switch did not take", pw->pw_name);
        return 1;
    }
    return 0;
}

/* Clears every capability (effective, permitted, inheritable), forbids regaining any
 * through exec, and checks that none is left. */
static int clear_caps(void)
{
    cap_t none = cap_init();
    if (none == NULL) {
        cli_err("cap_init: %s", strerror(errno));
        return 1;
    }
    int rc = cap_clear(none) != 0 || cap_set_proc(none) != 0;
    if (rc != 0) {
        cli_err("dropping capabilities: %s", strerror(errno));
    }
    cap_t now = rc == 0 ? cap_get_proc() : NULL;
    if (rc == 0 && (now == NULL || cap_compare(now, none) != 0)) {
        cli_err("dropping capabilities: some are still in effect");
        rc = 1;
    }
    cap_free(now);
    cap_free(none);
    if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
        cli_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        rc = 1;
    }
    return rc;
}

int cap_io_drop_privileges(const char *user, const char **as)
{
    const char *name = default_user(user);
    if (strcmp(name, "root") == 0) {
        *as = "root"; /* -Z root: as tcpdump, keep everything */
        return 0;
    }
    const struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        cli_err("-Z %s: no such user", name);
        return 1;
    }
    if (geteuid() == 0) {
        if (switch_user(pw) != 0) {
            return 1;
        }
        *as = name;
    } else {
        if (user != NULL) {
            cli_err("-Z %s: not running as root: staying uid %u, dropping capabilities only",
                    name, (unsigned)getuid());
        }
        const struct passwd *me = getpwuid(getuid());
        *as = me != NULL ? me->pw_name : "?";
    }
    return clear_caps();
}

/* The state of one run. */
struct run {
    const struct cap_opts *o;
    struct cap *c;
    pcap_t *p;
    pcap_dumper_t *dump;
    int link; /* the core's, or -1 */
    bool nano;
    uint64_t frames;
    int64_t first_sec; /* files: capture time of the first frame (--duration) */
    uint32_t first_nsec;
    struct timespec start; /* live: CLOCK_MONOTONIC at the start (--duration) */
    bool lines;            /* the reading thread makes the report's line starts */
    struct cap_tod tod;    /* its cache for them */
};

/* True when --duration has passed for this frame time (files) or the wall clock (live). */
static bool duration_over(struct run *r, int64_t sec, uint32_t nsec)
{
    if (r->o->duration_s <= 0) {
        return false;
    }
    if (r->o->iface != NULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - r->start.tv_sec) +
                    (double)(now.tv_nsec - r->start.tv_nsec) * 1e-9;
        return el >= r->o->duration_s;
    }
    if (r->frames == 0) {
        r->first_sec = sec;
        r->first_nsec = nsec;
        return false;
    }
    double el = (double)(sec - r->first_sec) + ((double)nsec - (double)r->first_nsec) * 1e-9;
    return el > r->o->duration_s;
}

/* Hands one frame to -w and the core. */
static void one_frame(struct run *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
    if (r->dump != NULL) {
        pcap_dump((u_char *)r->dump, h, data);
    }
    int64_t sec = (int64_t)h->ts.tv_sec;
    uint32_t nsec = (uint32_t)h->ts.tv_usec * (r->nano ? 1U : 1000U);
    /* An undecodable link type (-1) still counts, as "other". */
    cap_feed(r->c, r->link, data, h->caplen, h->len, sec, nsec);
    r->frames++;
}

/* Reads frames until the end, -c, --duration or a stop. Returns 0 or 1 (printed). */
static int read_loop(struct run *r)
{
    for (;;) {
        if (stop_requested || (r->o->count > 0 && r->frames >= r->o->count)) {
            return 0;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(r->p, &h, &data);
        if (rc == 0) { /* live: the read timeout, a chance to check --duration */
            if (duration_over(r, 0, 0)) {
                return 0;
            }
            continue;
        }
        if (rc == PCAP_ERROR_BREAK) {
            return 0; /* end of file, or cap_io_stop */
        }
        if (rc < 0) {
            cli_err("%s: %s", r->o->read_file ? r->o->read_file : r->o->iface,
                    pcap_geterr(r->p));
            return 1;
        }
        uint32_t nsec = (uint32_t)h->ts.tv_usec * (r->nano ? 1U : 1000U);
        if (duration_over(r, (int64_t)h->ts.tv_sec, nsec)) {
            return 0;
        }
        one_frame(r, h, data);
    }
}

/* Fills the link and time stamp facts of info from the open handle. */
static void describe(struct run *r, struct cap_io_info *info)
{
    int dlt = pcap_datalink(r->p);
    info->link = dlt;
    info->link_name = pcap_datalink_val_to_name(dlt);
    r->link = core_link(dlt);
    r->nano = pcap_get_tstamp_precision(r->p) == PCAP_TSTAMP_PRECISION_NANO;
    info->nano = r->nano;
    if (r->link < 0) {
        cli_err("%s: link type %s (%d) is not decoded: its frames count as other",
                info->source, info->link_name ? info->link_name : "?", dlt);
    }
}

/* Opens -w (after the privilege drop, as tcpdump does: the file belongs to the -Z user). */
static int open_dump(struct run *r)
{
    if (r->o->write_file == NULL) {
        return 0;
    }
    r->dump = pcap_dump_open(r->p, r->o->write_file);
    if (r->dump == NULL) {
        cli_err("-w %s: %s", r->o->write_file, pcap_geterr(r->p));
        return 1;
    }
    return 0;
}

/* Opens the input, filters, drops privileges (live), opens -w. Returns 0 or 1. */
static int open_input(struct run *r, struct cap_io_info *info)
{
    const struct cap_opts *o = r->o;
    r->p = o->iface != NULL ? open_live(o) : open_file(o);
    if (r->p == NULL) {
        return 1;
    }
    describe(r, info);
    if (set_filter(r->p, o->filter) != 0) {
        return 1;
    }
    if (o->iface != NULL) {
        info->tstamp = o->tstamp_type != NULL ? o->tstamp_type : "host";
        if (cap_io_drop_privileges(o->user, &info->user) != 0) {
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        if (o->duration_s > 0 && arm_duration(o->duration_s) != 0) {
            return 1;
        }
    }
    return open_dump(r);
}

/* Everything is open and root is gone: from here only reading frames and writing. Returns
 * 0 or 1 (printed). */
static int sandbox(const struct run *r)
{
    char why[160];
    if (cap_sandbox_apply(r->o->seccomp, r->o->iface != NULL, why, sizeof why) != 0) {
        cli_err("%s", why);
        return 1;
    }
    return 0;
}

/* ---- files: reading and decoding on a second thread ---- */

/* The reader thread's state. It is created before the sandbox and waits for go: the filter
 * is loaded on every thread (TSYNC), so no thread is ever created under it and the reader
 * parses no byte before it is in place. */
struct reader {
    struct run *r;
    struct cap_pipe q;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready; /* the thread runs reader_main: glibc's start-up calls (rseq,
                   set_robust_list) are behind it, and the filter may be loaded */
    int go;     /* 0: wait, 1: read, -1: quit at once */
};

/* The batch that takes a frame of len bytes, with *copy its copy there: b, or the next one
 * after publishing b. NULL when the consumer aborted. */
static struct cap_pipe_batch *room_for(struct cap_pipe *q, struct cap_pipe_batch *b,
                                       const uint8_t *data, size_t len, const uint8_t **copy)
{
    if (b->n < CAP_PIPE_FRAMES && (*copy = cap_pipe_copy(b, data, len)) != NULL) {
        return b;
    }
    cap_pipe_put(q, b);
    b = cap_pipe_take(q);
    if (b != NULL) {
        *copy = cap_pipe_copy(b, data, len); /* an empty arena takes any frame */
    }
    return b;
}

/* Attaches to a request frame the start of its exchange's line in the report, made here
 * so that the analyzer thread only copies it: formatting it there was a tenth of that
 * thread's time, the one that bounds a file's analysis. Nothing is attached (the analyzer
 * then formats it itself, the same text) when the batch's arena is full. */
static void attach_line(struct run *r, struct cap_pipe_batch *b, struct cap_pipe_frame *f,
                        int64_t sec, uint32_t nsec)
{
    enum cap_xkind kind;
    if (!cap_request_kind(&f->p, &kind)) {
        return;
    }
    char text[CAP_REQ_LINE_MAX];
    size_t n = cap_out_line_start(&r->tod, &f->p, kind, sec, nsec, text, sizeof text);
    const uint8_t *copy = n > 0 ? cap_pipe_copy(b, (const uint8_t *)text, n) : NULL;
    if (copy != NULL) {
        f->d.line = (const char *)copy;
        f->d.line_len = n;
    }
}

/* Reads frames as read_loop does (end of file, -c, --duration, a stop), copies each into
 * the current batch and decodes it there. Returns 0 or 1 (printed). */
static int reader_loop(struct run *r, struct cap_pipe *q)
{
    struct cap_pipe_batch *b = cap_pipe_take(q);
    int status = 0;
    while (b != NULL) {
        if (stop_requested || (r->o->count > 0 && r->frames >= r->o->count)) {
            break;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(r->p, &h, &data);
        if (rc == PCAP_ERROR_BREAK) {
            break;
        }
        if (rc < 0) {
            cli_err("%s: %s", r->o->read_file, pcap_geterr(r->p));
            status = 1;
            break;
        }
        if (rc == 0) {
            continue; /* live only */
        }
        int64_t sec = (int64_t)h->ts.tv_sec;
        uint32_t nsec = (uint32_t)h->ts.tv_usec * (r->nano ? 1U : 1000U);
        if (duration_over(r, sec, nsec)) {
            break;
        }
        if (r->dump != NULL) {
            pcap_dump((u_char *)r->dump, h, data);
        }
        size_t len = h->caplen < CAP_PIPE_ARENA ? h->caplen : CAP_PIPE_ARENA;
        const uint8_t *copy = NULL;
        b = room_for(q, b, data, len, &copy);
        if (b == NULL) {
            break;
        }
        struct cap_pipe_frame *f = &b->f[b->n++];
        f->what = cap_decode_frame(r->link, copy, len, h->len, &f->p, &f->d);
        cap_hash_frame(&f->p, &f->d);
        if (r->lines && f->what == CAP_NTP) {
            attach_line(r, b, f, sec, nsec);
        }
        f->wire_len = h->len;
        f->sec = sec;
        f->nsec = nsec;
        r->frames++;
    }
    if (b != NULL) {
        if (b->n > 0) {
            cap_pipe_put(q, b);
        } else {
            cap_pipe_give(q, b);
        }
    }
    return status;
}

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    pthread_mutex_lock(&rd->mu);
    rd->ready = true;
    pthread_cond_broadcast(&rd->cv);
    while (rd->go == 0) {
        pthread_cond_wait(&rd->cv, &rd->mu);
    }
    int go = rd->go;
    pthread_mutex_unlock(&rd->mu);
    cap_pipe_close(&rd->q, go > 0 ? reader_loop(rd->r, &rd->q) : 0);
    return NULL;
}

/* Waits until the thread is in reader_main. */
static void reader_wait_ready(struct reader *rd)
{
    pthread_mutex_lock(&rd->mu);
    while (!rd->ready) {
        pthread_cond_wait(&rd->cv, &rd->mu);
    }
    pthread_mutex_unlock(&rd->mu);
}

static void reader_start(struct reader *rd, int go)
{
    pthread_mutex_lock(&rd->mu);
    rd->go = go;
    pthread_cond_broadcast(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
}

/* How far ahead of the frame being analysed cap_prefetch's stages run, in frames: far
 * enough for a memory load to finish meanwhile (a frame's analysis takes about 0.2 us), near
 * enough that what was loaded is still in cache. */
enum { PREFETCH_BUCKETS = 16, PREFETCH_ENTRIES = 8 };

static void prefetch_ahead(const struct cap *c, const struct cap_pipe_batch *b, size_t i)
{
    if (i + PREFETCH_BUCKETS < b->n) {
        cap_prefetch(c, &b->f[i + PREFETCH_BUCKETS].d, 0);
    }
    if (i + PREFETCH_ENTRIES < b->n) {
        cap_prefetch(c, &b->f[i + PREFETCH_ENTRIES].d, 1);
    }
}

/* Analyses a file with the reader thread; *threaded is false when it could not be set up
 * (then nothing happened and the caller reads on this thread). Returns 0 or 1 (printed). */
static int run_threaded(struct run *r, bool *threaded)
{
    struct reader rd = {.r = r};
    *threaded = false;
    r->lines = cap_out_exchange_lines(r->o->fmt, r->o->quiet);
    if (cap_pipe_init(&rd.q) != 0) {
        return 0;
    }
    pthread_mutex_init(&rd.mu, NULL);
    pthread_cond_init(&rd.cv, NULL);
    pthread_t t;
    int rc = 0;
    if (pthread_create(&t, NULL, reader_main, &rd) == 0) {
        *threaded = true;
        reader_wait_ready(&rd);
        rc = sandbox(r);
        reader_start(&rd, rc == 0 ? 1 : -1);
        struct cap_pipe_batch *b;
        while ((b = cap_pipe_next(&rd.q)) != NULL) {
            for (size_t i = 0; i < b->n; i++) {
                prefetch_ahead(r->c, b, i);
                struct cap_pipe_frame *f = &b->f[i];
                cap_feed_decoded(r->c, &f->p, &f->d, f->wire_len, f->sec, f->nsec);
            }
            cap_pipe_give(&rd.q, b);
        }
        pthread_join(t, NULL);
        rc = rc != 0 ? rc : cap_pipe_status(&rd.q);
    }
    pthread_cond_destroy(&rd.cv);
    pthread_mutex_destroy(&rd.mu);
    cap_pipe_free(&rd.q);
    return rc;
}

int cap_io_run(const struct cap_opts *o, struct cap *c, struct cap_io_info *info)
{
    memset(info, 0, sizeof *info);
    info->source = o->iface != NULL ? o->iface : o->read_file;
    info->live = o->iface != NULL;
    struct run r = {.o = o, .c = c, .link = -1};
    int rc = open_input(&r, info);
    if (rc == 0) {
        active = r.p;
        bool threaded = false;
        if (o->iface == NULL) {
            rc = run_threaded(&r, &threaded);
        }
        if (!threaded) {
            rc = sandbox(&r);
            if (rc == 0 && !stop_requested) {
                rc = read_loop(&r);
            }
        }
        active = NULL;
    }
    info->frames = r.frames;
    struct pcap_stat ps;
    if (r.p != NULL && info->live && pcap_stats(r.p, &ps) == 0) {
        info->recv = ps.ps_recv;
        info->drop = ps.ps_drop;
        info->ifdrop = ps.ps_ifdrop;
        info->stats_known = true;
    }
    if (r.dump != NULL) {
        if (pcap_dump_flush(r.dump) != 0) {
            cli_err("-w %s: write failed", o->write_file);
            rc = 1;
        }
        pcap_dump_close(r.dump);
    }
    if (r.p != NULL) {
        pcap_close(r.p);
    }
    return rc;
}
