/* SPDX-License-Identifier: BSD-2-Clause */
/* Name resolution in one helper thread, answers through a pipe (resolve.h). */
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ntk/sb.h"

#include "poison.h"

struct request {
    char name[256];
    int family;
    uint16_t port;
    uint32_t tag;
};

struct resolver {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, quit;
    int pipe_rd, pipe_wr;
    struct request req[RESOLVE_QUEUE_MAX]; /* ring */
    size_t req_head, nreq;
    struct resolve_answer ans[RESOLVE_QUEUE_MAX]; /* ring */
    size_t ans_head, nans;
};

struct resolver *resolver_new(void)
{
    struct resolver *r = calloc(1, sizeof *r);
    int p[2];
    if (r == NULL || pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(r);
        return NULL;
    }
    r->pipe_rd = p[0];
    r->pipe_wr = p[1];
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    return r;
}

int resolver_fd(const struct resolver *r)
{
    return r->pipe_rd;
}

/* One lookup, outside the lock. */
static void lookup(const struct request *q, struct resolve_answer *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->name, q->name, sizeof a->name);
    a->tag = q->tag;
    struct addrinfo hints = {
        .ai_family = q->family, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
    char port[8];
    struct ntk_sb sb;
    ntk_sb_init(&sb, port, sizeof port);
    ntk_sb_printf(&sb, "%u", (unsigned)q->port);
    struct addrinfo *res = NULL;
    a->gai_err = getaddrinfo(q->name, port, &hints, &res);
    for (struct addrinfo *ai = res; ai != NULL && a->n < RESOLVE_ADDRS_MAX; ai = ai->ai_next)
        if (ntk_addr_from_sockaddr(&a->addrs[a->n], ai->ai_addr, ai->ai_addrlen) == 0)
            a->n++;
    if (res != NULL)
        freeaddrinfo(res);
}

static void *worker(void *arg)
{
    struct resolver *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->nreq == 0 && !r->quit)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->quit)
            break;
        struct request q = r->req[r->req_head];
        r->req_head = (r->req_head + 1) % RESOLVE_QUEUE_MAX;
        r->nreq--;
        pthread_mutex_unlock(&r->mu);
        struct resolve_answer a;
        lookup(&q, &a);
        pthread_mutex_lock(&r->mu);
        if (r->nans < RESOLVE_QUEUE_MAX) {
            r->ans[(r->ans_head + r->nans) % RESOLVE_QUEUE_MAX] = a;
            r->nans++;
        }
        (void)!write(r->pipe_wr, "a", 1); /* a full pipe already wakes the loop */
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int resolver_ask(struct resolver *r, const char *name, int family, uint16_t port)
{
    return resolver_ask_tag(r, name, family, port, 0);
}

int resolver_ask_tag(struct resolver *r, const char *name, int family, uint16_t port,
                     uint32_t tag)
{
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof r->req[0].name)
        return -EINVAL;
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    if (r->nreq == RESOLVE_QUEUE_MAX) {
        rc = -ENOSPC;
    } else {
        struct request *q = &r->req[(r->req_head + r->nreq) % RESOLVE_QUEUE_MAX];
        memcpy(q->name, name, len + 1);
        q->family = family;
        q->port = port;
        q->tag = tag;
        r->nreq++;
        if (!r->running) {
            rc = -pthread_create(&r->thread, NULL, worker, r);
            r->running = rc == 0;
        }
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int resolver_take(struct resolver *r, struct resolve_answer *out)
{
    char drain[64];
    while (read(r->pipe_rd, drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&r->mu);
    int got = r->nans > 0;
    if (got) {
        *out = r->ans[r->ans_head];
        r->ans_head = (r->ans_head + 1) % RESOLVE_QUEUE_MAX;
        r->nans--;
        if (r->nans > 0)
            (void)!write(r->pipe_wr, "a", 1); /* keep the loop coming back for the rest */
    }
    pthread_mutex_unlock(&r->mu);
    return got;
}

void resolver_free(struct resolver *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->quit = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->running)
        pthread_join(r->thread, NULL);
    close(r->pipe_rd);
    close(r->pipe_wr);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

void resolve_retry_reset(struct resolve_retry *r)
{
    r->delay_s = RESOLVE_RETRY_MIN_S;
}

int resolve_retry_next_s(struct resolve_retry *r)
{
    int d = r->delay_s < RESOLVE_RETRY_MIN_S   ? RESOLVE_RETRY_MIN_S
            : r->delay_s > RESOLVE_RETRY_MAX_S ? RESOLVE_RETRY_MAX_S
                                               : r->delay_s;
    r->delay_s = d > RESOLVE_RETRY_MAX_S / 2 ? RESOLVE_RETRY_MAX_S : d * 2;
    return d;
}
