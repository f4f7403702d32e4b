/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's command interpreter: NTPsec's commands with its prefix matching, run over a
 * transport (struct nq_io) that nq_net.c implements with ntk_ctlc and UDP, and that the unit
 * tests replace with canned responses. */
#ifndef NTK_NQ_CMD_H
#define NTK_NQ_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nq.h"

/* Limits that keep one run bounded. */
#define NQ_MAX_ASSOC 1024 /* associations kept from READSTAT */
#define NQ_MAX_HOSTS 64   /* host operands */
#define NQ_MAX_CMDS  64   /* -c options */
#define NQ_MAX_UVARS 64   /* addvars list */

/* Transport results besides 0: negative local failures, positive server error codes + 1. */
enum {
    NQ_Q_TIMEOUT = -1,    /* no complete response after the retry */
    NQ_Q_SOCKET = -2,     /* socket error (ntpd not running, unreachable) */
    NQ_Q_INCOMPLETE = -3, /* a response that could not be reassembled */
    NQ_Q_AUTH = -4,       /* a response with a bad MAC */
    NQ_Q_NOKEY = -5,      /* the key to sign with is not in the keys */
    NQ_Q_NOHOST = -6,     /* no host open */
    NQ_Q_SERVER = 1,      /* NQ_Q_SERVER + code: the server's error response */
};

/* A complete response (borrowed from the transport until its next call). */
struct nq_reply {
    const char *data; /* the data, NUL-terminated */
    size_t len;       /* its length */
    uint16_t status;  /* status word */
};

/* Called with each READ_MRU response's data during an mrulist. */
typedef void (*nq_chunk_fn)(void *ctx, const char *data, size_t len);

/* The transport. */
struct nq_io {
    void *ctx; /* passed to every call */
    /* Opens host (family AF_UNSPEC/AF_INET/AF_INET6): 0, or -1 after writing a message to
     * err (NTPsec's "ntpq: ...: name or service not known"-style line). */
    int (*open)(void *ctx, const char *host, int family, FILE *err);
    /* One request; keyid 0 unsigned. Returns 0 and fills *r, or an NQ_Q_* code. */
    int (*query)(void *ctx, uint8_t op, uint16_t associd, const char *data, size_t len,
                 uint32_t keyid, struct nq_reply *r);
    /* An mrulist transaction with params and the first frags; each response's data goes to
     * chunk. Returns 0 or an NQ_Q_* code. */
    int (*mrulist)(void *ctx, const char *params, size_t len, unsigned frags,
                   nq_chunk_fn chunk, void *cctx);
    /* Sets the per-attempt timeout in milliseconds. */
    void (*set_timeout)(void *ctx, long ms);
    /* True when keyid is in the keys (so a request can be signed). */
    bool (*have_key)(void *ctx, uint32_t keyid);
    /* Adds a key typed in at the passwd prompt (keytype as NTPsec names it). 0 or -1. */
    int (*add_key)(void *ctx, uint32_t keyid, const char *keytype, const char *passwd);
    /* Reverse lookup for display ("DNSFAIL:addr" or the name); NULL: numeric. */
    const char *(*resolve)(void *ctx, const char *addr);
    /* Current Unix time (tests pin it). */
    double (*now)(void *ctx);
};

/* Names and help texts (nq_help.c). */
struct nq_help {
    const char *name; /* command name as NTPsec's get_names() lists it */
    const char *help; /* its help_ text, or NULL */
    const char *doc;  /* its docstring, or NULL */
};
extern const struct nq_help nq_help_table[];
extern const char nq_help_listing[];

/* One host operand. */
struct nq_host {
    const char *name; /* as given */
    int family;       /* -4/-6 in force for it */
};

/* The interpreter's state. */
struct nq {
    struct nq_style st;            /* formatting */
    const struct nq_io *io;        /* transport */
    FILE *out;                     /* reports (stdout) */
    FILE *err;                     /* warnings (stderr) */
    FILE *log;                     /* debug log (-l, logfile), NULL: stderr */
    bool raw;                      /* raw mode */
    bool json;                     /* -j: JSON lines instead of text */
    bool interactive;              /* reading commands from a terminal */
    int debug;                     /* debug level */
    long timeout_ms;               /* primary timeout */
    uint32_t keyid;                /* 0: none defined */
    char keytype[16];              /* keytype command (NTPsec default "MD5") */
    bool always_auth;              /* authenticate yes */
    int pktversion;                /* ntpversion */
    int family;                    /* -4/-6 for host */
    const char *hostname;          /* the open host's name, NULL if none */
    char hostbuf[256];             /* storage for a host set by the host command */
    size_t nhosts;                 /* host operands (for "server=" prefixes) */
    size_t maxhostlen;             /* their longest name */
    uint16_t ids[NQ_MAX_ASSOC];    /* associations from the last READSTAT */
    uint16_t status[NQ_MAX_ASSOC]; /* their status words */
    size_t nassoc;                 /* how many */
    char *uvars[NQ_MAX_UVARS];     /* addvars list: "name" or "name=value" (heap) */
    size_t nuvars;                 /* how many */
    bool quit;                     /* quit/exit/EOF seen */
};

/* Sets defaults (cooked, names shown, 80 columns, timeout 5000 ms). */
void nq_init(struct nq *q, const struct nq_io *io, FILE *out, FILE *err);

/* Frees what nq_init and the commands allocated. */
void nq_fini(struct nq *q);

/* Runs one command line as NTPsec's ntpq does (prefix matching, "?" for help). */
void nq_run(struct nq *q, const char *line);

/* Command name matching: writes the full name of cmd into *full and returns 1, or returns
 * 0 (unknown) or 2 (ambiguous). An exact name wins over longer ones. */
int nq_match(const char *cmd, const char **full);

#endif /* NTK_NQ_CMD_H */
