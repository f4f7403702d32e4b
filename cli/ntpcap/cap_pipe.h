/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's frame pipe: decoded frames handed from a reader thread to the analyzer in
 * batches, so that reading a file (libpcap) and decoding frames (cap_decode_frame, pure) run
 * on one core while pairing, flows and output run on another. One producer, one consumer,
 * a fixed number of batches (bounded memory), frames in capture order.
 *
 * The producer fills a free batch (cap_pipe_take, then cap_pipe_copy and cap_decode_frame
 * for each frame), publishes it (cap_pipe_put) and finally closes the pipe with its status
 * (cap_pipe_close). The consumer takes full batches (cap_pipe_next) until NULL, then reads
 * the status, and gives each batch back (cap_pipe_give). A batch's frames point into its
 * own arena, valid until it is given back. */
#ifndef NTK_CAP_PIPE_H
#define NTK_CAP_PIPE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "cap_decode.h"

/* Frames per batch: about a thousand hand-overs per million frames. */
#define CAP_PIPE_FRAMES 1024
/* Frame bytes per batch: more than libpcap's largest snapshot length (262144), so any frame
 * fits an empty batch. */
#define CAP_PIPE_ARENA (1U << 19)
/* Batches in all: the memory bound (4 MiB: 1024 decoded frames and the arena each). */
#define CAP_PIPE_DEPTH 4

/* One frame as the reader decoded it. */
struct cap_pipe_frame {
    /* From cap_decode_frame; the frame number and times are set by cap_feed_decoded. */
    struct cap_pkt p;
    struct cap_dec d; /* payload view into the batch's arena */
    enum cap_what what;
    size_t wire_len;
    int64_t sec;
    uint32_t nsec;
};

struct cap_pipe_batch {
    size_t n;    /* frames */
    size_t used; /* arena bytes */
    struct cap_pipe_frame f[CAP_PIPE_FRAMES];
    uint8_t arena[CAP_PIPE_ARENA];
};

/* The pipe. Fields are private. */
struct cap_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cap_pipe_batch *all[CAP_PIPE_DEPTH];   /* the batches (owned) */
    struct cap_pipe_batch *ring[CAP_PIPE_DEPTH];  /* full batches in order */
    size_t head, full;                            /* ring: first, count */
    struct cap_pipe_batch *spare[CAP_PIPE_DEPTH]; /* free batches (a stack) */
    size_t free_n;
    bool closed;  /* the producer is done */
    bool aborted; /* the consumer gave up: cap_pipe_take returns NULL */
    int status;   /* the producer's (cap_pipe_close) */
};

/* Allocates the batches. Returns 0 or NTK_ENOMEM (nothing to free then). */
int cap_pipe_init(struct cap_pipe *q);

/* Frees the batches; both sides must be done. */
void cap_pipe_free(struct cap_pipe *q);

/* Producer: a free, empty batch (waits for one), or NULL when the consumer aborted. */
struct cap_pipe_batch *cap_pipe_take(struct cap_pipe *q);

/* Producer: copies len bytes of a frame into b's arena and returns the copy, or NULL when
 * the arena has no room left (publish b and copy into the next one). len must not exceed
 * CAP_PIPE_ARENA. */
const uint8_t *cap_pipe_copy(struct cap_pipe_batch *b, const uint8_t *data, size_t len);

/* Producer: hands a filled batch to the consumer. */
void cap_pipe_put(struct cap_pipe *q, struct cap_pipe_batch *b);

/* Producer: no more batches; status is what cap_pipe_status will say (0 or 1). */
void cap_pipe_close(struct cap_pipe *q, int status);

/* Consumer: the next full batch in order (waits for it), or NULL once the pipe is closed
 * and drained. */
struct cap_pipe_batch *cap_pipe_next(struct cap_pipe *q);

/* Consumer: gives a batch back for reuse. */
void cap_pipe_give(struct cap_pipe *q, struct cap_pipe_batch *b);

/* Consumer: stops the producer (its next cap_pipe_take returns NULL). */
void cap_pipe_abort(struct cap_pipe *q);

/* The producer's status, once cap_pipe_next returned NULL. */
int cap_pipe_status(struct cap_pipe *q);

#endif /* NTK_CAP_PIPE_H */
