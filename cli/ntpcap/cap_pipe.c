/* SPDX-License-Identifier: BSD-2-Clause */
/* The frame pipe (cap_pipe.h): a mutex and one condition variable around two small stacks
 * of batch pointers. Hand-overs are per batch, not per frame, so locking costs nothing
 * measurable next to the frames themselves. */
#include "cap_pipe.h"

#include <stdlib.h>
#include <string.h>

#include "ntk/err.h"

#include "poison.h"

int cap_pipe_init(struct cap_pipe *q)
{
    memset(q, 0, sizeof *q);
    for (size_t i = 0; i < CAP_PIPE_DEPTH; i++) {
        q->all[i] = malloc(sizeof *q->all[i]);
        if (q->all[i] == NULL) {
            for (size_t j = 0; j < i; j++) {
                free(q->all[j]);
            }
            return NTK_ENOMEM;
        }
        q->spare[q->free_n++] = q->all[i];
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    return NTK_OK;
}

void cap_pipe_free(struct cap_pipe *q)
{
    for (size_t i = 0; i < CAP_PIPE_DEPTH; i++) {
        free(q->all[i]);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    memset(q, 0, sizeof *q);
}

struct cap_pipe_batch *cap_pipe_take(struct cap_pipe *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->free_n == 0 && !q->aborted) {
        pthread_cond_wait(&q->cv, &q->mu);
    }
    struct cap_pipe_batch *b = q->aborted ? NULL : q->spare[--q->free_n];
    pthread_mutex_unlock(&q->mu);
    if (b != NULL) {
        b->n = 0;
        b->used = 0;
    }
    return b;
}

const uint8_t *cap_pipe_copy(struct cap_pipe_batch *b, const uint8_t *data, size_t len)
{
    if (len > CAP_PIPE_ARENA - b->used) {
        return NULL;
    }
    uint8_t *to = b->arena + b->used;
    if (len > 0) {
        memcpy(to, data, len);
    }
    /* Keep the next copy 8-byte aligned: the decoder reads headers byte by byte, but
     * aligned starts keep copies from straddling more cache lines than they must. */
    b->used += (len + 7) & ~(size_t)7;
    if (b->used > CAP_PIPE_ARENA) {
        b->used = CAP_PIPE_ARENA;
    }
    return to;
}

void cap_pipe_put(struct cap_pipe *q, struct cap_pipe_batch *b)
{
    pthread_mutex_lock(&q->mu);
    q->ring[(q->head + q->full) % CAP_PIPE_DEPTH] = b;
    q->full++;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void cap_pipe_close(struct cap_pipe *q, int status)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    q->status = status;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

struct cap_pipe_batch *cap_pipe_next(struct cap_pipe *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->full == 0 && !q->closed) {
        pthread_cond_wait(&q->cv, &q->mu);
    }
    struct cap_pipe_batch *b = NULL;
    if (q->full > 0) {
        b = q->ring[q->head];
        q->head = (q->head + 1) % CAP_PIPE_DEPTH;
        q->full--;
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

void cap_pipe_give(struct cap_pipe *q, struct cap_pipe_batch *b)
{
    pthread_mutex_lock(&q->mu);
    q->spare[q->free_n++] = b;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void cap_pipe_abort(struct cap_pipe *q)
{
    pthread_mutex_lock(&q->mu);
    q->aborted = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int cap_pipe_status(struct cap_pipe *q)
{
    pthread_mutex_lock(&q->mu);
    int s = q->status;
    pthread_mutex_unlock(&q->mu);
    return s;
}
