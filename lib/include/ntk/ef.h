/* SPDX-License-Identifier: BSD-2-Clause */
/* NTP extension fields (RFC 7822, which replaces RFC 5905 §7.5): a walker over a span of
 * fields and a builder that pads them.
 *
 * On the wire an extension field (EF) is a 16-bit Field Type, a 16-bit Length counting the
 * whole field (these 4 header bytes, the value and its zero padding), then the value. RFC 7822
 * requires every field to be a multiple of 4 bytes and at least 16 bytes long in an NTP
 * packet; the last field of a packet that carries no MAC must be at least 28 bytes, so that
 * it cannot be mistaken for a 20- or 24-byte legacy MAC. That last rule is about where a
 * packet ends, so it lives in ntk_pkt_decode (ntk/pkt.h), which stops walking fields once 24
 * bytes or fewer are left; this module only knows single fields.
 *
 * Fields nested inside another field's value (the encrypted fields of an NTS Authenticator,
 * RFC 8915 §5.6) have no MAC ambiguity, so the walker takes the minimum length as an argument
 * (chrony likewise accepts 4-byte fields there: NEF_ParseSingleField).
 *
 * Nothing here allocates or keeps pointers beyond the caller's buffers.
 */
#ifndef NTK_EF_H
#define NTK_EF_H

#include <stddef.h>
#include <stdint.h>

#include "ntk/buf.h"

/* Bytes of the Field Type + Length header. */
#define NTK_EF_HDR_LEN 4

/* RFC 7822: the shortest extension field allowed in an NTP packet. */
#define NTK_EF_MIN_LEN 16

/* RFC 7822: the shortest last extension field of a packet without a MAC. */
#define NTK_EF_MIN_LAST_LEN 28

/* The longest field a 16-bit Length can describe while staying a multiple of 4. */
#define NTK_EF_MAX_LEN 65532

/* Field types of NTS (RFC 8915 §5.7, IANA "NTP Extension Field Types"). */
enum ntk_ef_type {
    NTK_EF_NTS_UID = 0x0104,                /* Unique Identifier (request/response pairing) */
    NTK_EF_NTS_COOKIE = 0x0204,             /* NTS Cookie */
    NTK_EF_NTS_COOKIE_PLACEHOLDER = 0x0304, /* NTS Cookie Placeholder */
    NTK_EF_NTS_AUTH = 0x0404,               /* NTS Authenticator and Encrypted EFs */
};

/* One field as the walker hands it out. Everything points into the walked buffer. */
struct ntk_ef {
    uint16_t type;      /* Field Type, host order */
    size_t len;         /* whole field in bytes (header + value + padding), as on the wire */
    size_t off;         /* position of the field's first byte, counted like ntk_rd_pos() of
                           the cursor the walk was started from (so an absolute packet
                           offset when that cursor spans the whole packet) */
    struct ntk_rd body; /* cursor confined to the value: len - 4 bytes, padding included
                           (RFC 7822 gives no way to tell padding from value; each field
                           type's own format has to) */
};

/* Walker state. Fields are public only so walkers live on the stack; use the functions. */
struct ntk_ef_iter {
    struct ntk_rd rd; /* what is left to walk */
    size_t min_len;   /* shortest acceptable field, >= NTK_EF_HDR_LEN */
    int err;          /* 0 or the first error met (sticky) */
};

/* Starts a walk over what is left in *area (area itself is copied, never advanced), with
 * min_len the shortest field accepted: NTK_EF_MIN_LEN for the fields of an NTP packet, 4 for
 * nested fields. A min_len below NTK_EF_HDR_LEN is raised to it. If area has already
 * failed, the walk starts failed with its error. */
void ntk_ef_iter_init(struct ntk_ef_iter *it, const struct ntk_rd *area, size_t min_len);

/* Hands out the next field. Returns 1 and writes *out; 0 at the clean end of the area
 * (*out untouched); or a negative enum ntk_err, *out untouched:
 *   NTK_ETRUNC  1-3 bytes left (no room for a header), or a Length running past the end;
 *   NTK_EFORMAT a Length below min_len or not a multiple of 4.
 * Errors are sticky: every later call returns the same error. Every field consumes at least
 * 4 bytes, so a walk over n bytes ends after at most n / 4 calls that return 1. */
int ntk_ef_next(struct ntk_ef_iter *it, struct ntk_ef *out);

/* Bytes not walked yet (0 once the walk failed). */
size_t ntk_ef_iter_left(const struct ntk_ef_iter *it);

/* 0 or the walk's sticky error. */
int ntk_ef_iter_err(const struct ntk_ef_iter *it);

/* The wire length of a field carrying body_len value bytes: 4 + body_len rounded up to a
 * multiple of 4, and at least min_len rounded up to a multiple of 4. Returns 0 if that
 * exceeds NTK_EF_MAX_LEN. */
size_t ntk_ef_wire_len(size_t body_len, size_t min_len);

/* Appends one field: type, Length, the len bytes at body (body may be NULL when len is 0),
 * then zero padding up to ntk_ef_wire_len(len, NTK_EF_MIN_LEN). All or nothing: returns 0;
 * NTK_ENOSPC if it does not fit in w (nothing written, w failed); NTK_ERANGE if the field
 * would exceed NTK_EF_MAX_LEN (nothing written, and w is failed with NTK_ENOSPC too, so a
 * caller that checks only ntk_wr_err() still never sends it). */
int ntk_ef_put(struct ntk_wr *w, uint16_t type, const void *body, size_t len);

/* ntk_ef_put with another minimum: NTK_EF_MIN_LAST_LEN for the last field of a packet that
 * will carry no MAC, 4 for a nested field. */
int ntk_ef_put_min(struct ntk_wr *w, uint16_t type, const void *body, size_t len,
                   size_t min_len);

/* Starts a field whose value the caller writes straight into w (an NTS Authenticator built
 * in place): writes type and a placeholder Length. Returns the field's start position, for
 * ntk_ef_end; if w has failed or fails here the later ntk_ef_end reports it. */
size_t ntk_ef_begin(struct ntk_wr *w, uint16_t type);

/* Ends the field begun at start: appends zero padding up to
 * ntk_ef_wire_len(value bytes written, min_len) and patches the Length. Returns 0, or
 * NTK_ENOSPC (padding did not fit, or w had already failed), NTK_ERANGE (field too long) or
 * NTK_EINVAL (start is not a position ntk_ef_begin returned for w); w is failed on every
 * error. */
int ntk_ef_end(struct ntk_wr *w, size_t start, size_t min_len);

#endif /* NTK_EF_H */
