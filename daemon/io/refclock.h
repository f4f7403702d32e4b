/* SPDX-License-Identifier: BSD-2-Clause */
/* The reference-clock drivers' contract: the wire and memory layouts of the three protocols
 * (the ntpd SHM segment, chrony's SOCK datagrams, RFC 2783 PPS edges) and the pure functions
 * that turn one record into a struct eng_rc_sample or a fault (rc_shm.c, rc_sock.c,
 * rc_pps.c); drefclk.c makes the system calls and hands the results to the engine. */
#ifndef NTK_REFCLOCK_H
#define NTK_REFCLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include <linux/pps.h>

#include "engine.h"

/* ---- SHM: the shared-memory segment of NTP's driver 28, which gpsd writes ---- */

/* The System V IPC key of unit N is RC_SHM_KEY + N ("NTP0"). */
#define RC_SHM_KEY 0x4e545030

/* Units below this are created 0600 (root only) and refused when anyone else may write them
 * (NTPsec's rule: gpsd running as root writes units 0 and 1). */
#define RC_SHM_PRIVATE_UNITS 2

/* Default |clock - receive| limit of a sample, s: NTPsec's 4 hours (flag1 skips it). */
#define RC_SHM_MAXDELTA_S (4 * 3600)

/* The segment, in the native layout every producer (gpsd, chrony, NTPsec) compiles. */
struct rc_shm_time {
    int mode;                      /* 0: valid handshake only; 1: count handshake too */
    volatile int count;            /* mode 1: bumped by the writer before and after */
    time_t clockTimeStampSec;      /* the reference's time of the event, s (UTC) */
    int clockTimeStampUSec;        /* ... µs */
    time_t receiveTimeStampSec;    /* the local clock at the event, s */
    int receiveTimeStampUSec;      /* ... µs */
    int leap;                      /* leap indicator (0..3, as NTP's) */
    int precision;                 /* log2 s of the reference (0: unknown) */
    int nsamples;                  /* unused */
    volatile int valid;            /* 1: a new sample; the reader clears it */
    unsigned clockTimeStampNSec;   /* the reference's ns (agrees with USec when used) */
    unsigned receiveTimeStampNSec; /* the local clock's ns */
    int dummy[8];                  /* room, unused */
};

/* One read of the segment, as rc_shm_fetch took it. */
struct rc_shm_snap {
    struct rc_shm_time t; /* the fields (count as read before them) */
    int count_after;      /* count read again after the fields */
};

/* What a read gives: a sample or why not (enum eng_rc_fault). */
struct rc_result {
    int fault;              /* 0: sample is good; else an enum eng_rc_fault */
    const char *why;        /* the reason of a fault, for the log (static text) */
    struct eng_rc_sample s; /* the sample (when fault is 0) */
};

/* Copies the segment into *out with the handshake of its mode: count read before and after
 * the fields (compiler and memory barriers between), then valid cleared, as NTPsec's reader
 * does. Only memory accesses: unit tests pass an ordinary struct. */
void rc_shm_fetch(volatile struct rc_shm_time *seg, struct rc_shm_snap *out);

/* Decodes a snapshot: NOREPLY when valid is 0; BADFORMAT for a mode other than 0 and 1;
 * BADDATA when count changed (mode 1), a µs or ns field is out of range, a time is
 * negative, the leap is not 0..3, or |clock - receive| exceeds maxdelta_s (skipped when
 * maxdelta_s <= 0: flag1). Nanoseconds are used when they agree with the µs field (gpsd
 * writes both), else the µs. The sample: ref = clock time, local = receive time, precision
 * the segment's when in -30..-1 (else 0), timecode "CLOCK RECEIVE" as s.ns. *r is always
 * written. */
void rc_shm_decode(const struct rc_shm_snap *snap, double maxdelta_s, struct rc_result *r);

/* ---- SOCK: chrony's refclock socket (refclock_sock.c) ---- */

#define RC_SOCK_MAGIC 0x534f434b /* "SOCK" */

/* One datagram, native layout (40 bytes on LP64). */
struct rc_sock_sample {
    struct timeval tv; /* the local clock at the measurement */
    double offset;     /* the reference minus the local clock at tv, s */
    int pulse;         /* non-zero: a PPS-like pulse (the reference's second unnumbered) */
    int leap;          /* 0 none, 1 insert, 2 delete (chrony's values) */
    int pad;           /* ignored */
    int magic;         /* RC_SOCK_MAGIC */
};

/* Decodes one datagram of len bytes: BADFORMAT when len is not the struct's size or the
 * magic differs; BADDATA for tv_usec out of 0..999999, a tv_sec not positive, an offset not
 * finite or beyond 1e9 s (a pulse: |offset| >= 0.5 s), a leap not 0..2. A sample: local = tv,
 * ref = tv + offset (a pulse: ref zero, a PPS edge; the engine numbers only a pps
 * refclock's, and refuses it from SOCK), timecode "sample|pulse TV OFFSET". *r is always
 * written. */
void rc_sock_decode(const uint8_t *p, size_t len, struct rc_result *r);

/* ---- PPS: RFC 2783 edges (linux/pps.h PPS_FETCH) ---- */

/* What one PPS_FETCH returned, in the pure function's terms. */
struct rc_pps_edges {
    uint32_t assert_seq;       /* assert edges counted by the kernel */
    uint32_t clear_seq;        /* clear edges */
    struct timespec assert_ts; /* CLOCK_REALTIME of the last assert edge */
    struct timespec clear_ts;  /* of the last clear edge */
};

/* A sample from the edge flag2 picks (clear: the clear edge, NTPsec's flag2; else assert):
 * NOREPLY when that edge's sequence is last_seq (nothing new), BADDATA when its time is
 * zero or its ns is out of range. On a sample *last_seq becomes the new sequence; the
 * sample has ref zero and local the edge's time, timecode "assert|clear SEQ S.NS". */
void rc_pps_decode(const struct rc_pps_edges *e, bool clear, uint32_t *last_seq,
                   struct rc_result *r);

/* What flag3 (NTPsec's kernel hardpps) asks of a PPS refclock's device. */
enum rc_pps_kernel {
    RC_PPS_KERNEL_OFF = 0, /* flag3 unset: the pulses go through the engine only */
    RC_PPS_KERNEL_BIND,    /* flag3: bind the edge to the kernel's hardpps (PPS_KC_BIND) */
    RC_PPS_KERNEL_SKIPPED, /* flag3 in observe mode: not bound (it would discipline the
                            * kernel clock, which observe mode never touches) */
};

/* Decides what flag3 does for a refclock with these flags (NTPsec's: 2 the clear edge, 4
 * kernel hardpps) in observe mode or not, and for RC_PPS_KERNEL_BIND writes *args: the
 * timespec format, the chosen edge (PPS_CAPTURECLEAR with flag2, else PPS_CAPTUREASSERT)
 * and the consumer PPS_KC_HARDPPS, as linux/pps.h's PPS_KC_BIND takes them (RFC 2783
 * 3.4.4 time_pps_kcbind). *args is left alone otherwise. */
enum rc_pps_kernel rc_pps_kernel_args(unsigned flags, bool observe,
                                      struct pps_bind_args *args);

/* Writes *args to undo a binding: the same format and consumer, edge 0 (Linux unbinds the
 * device that is bound when the edge is 0). */
void rc_pps_unbind_args(struct pps_bind_args *args);

/* ---- names ---- */

/* The driver's name ("SHM", "PPS", "SOCK") of a type. */
const char *rc_type_name(enum eng_rc_type t);

#endif /* NTK_REFCLOCK_H */
