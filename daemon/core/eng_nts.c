/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's NTS client: asking the shell for NTS-KE, taking its result, and adding the
 * NTS fields to an association's requests. */
#include <stdint.h>
#include <string.h>

#include "engine_internal.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* How often a poll that waits for NTS-KE looks again. */
#define KE_WAIT_S 2

void eng_nts_init(struct eng *e)
{
    static const uint8_t zero[32];
    if (ntk_aead_key_init(&e->nts_c2s, NTK_AEAD_AES_SIV_CMAC_256, zero, sizeof zero) < 0 ||
        ntk_aead_key_init(&e->nts_s2c, NTK_AEAD_AES_SIV_CMAC_256, zero, sizeof zero) < 0)
        eng_nts_free(e);
}

void eng_nts_free(struct eng *e)
{
    ntk_aead_key_free(e->nts_c2s);
    ntk_aead_key_free(e->nts_s2c);
    e->nts_c2s = e->nts_s2c = NULL;
}

void eng_nts_account(struct eng *e, const struct ntsc_stats *before,
                     const struct ntsc_stats *after)
{
    e->nts_st.send += after->send - before->send;
    e->nts_st.recv_good += after->recv_good - before->recv_good;
    e->nts_st.recv_bad += after->recv_bad - before->recv_bad;
    e->nts_st.naks += after->naks - before->naks;
    e->nts_st.ke_good += after->ke_good - before->ke_good;
    e->nts_st.ke_bad += after->ke_bad - before->ke_bad;
}

/* Queues ENG_ACT_NEED_KE for a: the KE server's address and the name to check. */
static void ask_ke(struct eng *e, struct assoc *a)
{
    struct eng_action *act = eng_push(e, ENG_ACT_NEED_KE, a->id);
    if (act == NULL)
        return; /* the next poll asks again */
    act->remote = a->nts.ke_addr;
    struct ntk_sb sb;
    ntk_sb_init(&sb, act->text, sizeof act->text);
    struct ntk_addr bare = a->nts.ke_addr;
    bare.port = 0; /* the address as the certificate would name it */
    if (a->cfg.name[0] != '\0')
        ntk_sb_puts(&sb, a->cfg.name);
    else
        ntk_addr_format_sb(&bare, &sb);
    ntsc_ke_started(&a->nts);
}

void eng_nts_wait(struct eng *e, const struct eng_now *now, struct assoc *a)
{
    if (ntsc_want_ke(&a->nts, now->mono_ns))
        ask_ke(e, a);
    int64_t next = now->mono_ns + (int64_t)KE_WAIT_S * NS_PER_S;
    if (!a->nts.ke_pending && a->nts.ke_next_mono_ns > next)
        next = a->nts.ke_next_mono_ns;
    a->next_poll_mono_ns = next;
}

int eng_nts_request(struct eng *e, struct assoc *a, uint8_t *pkt, size_t cap, size_t hdr_len)
{
    uint8_t rnd[NTSC_RND_LEN];
    if (e->nts_c2s == NULL)
        return NTK_EUNSUPP;
    e->rng.bytes(e->rng.ctx, rnd, sizeof rnd);
    struct ntsc_stats before = a->nts.st;
    int len = ntsc_build(&a->nts, pkt, cap, hdr_len, rnd, e->nts_c2s);
    eng_nts_account(e, &before, &a->nts.st);
    return len;
}

/* Moves a to the NTP address NTS-KE named, unless another association polls it. */
static void move_to(struct eng *e, struct assoc *a, const struct ntk_addr *ntp)
{
    struct ntk_addr to = *ntp;
    ntk_addr_unmap(&to);
    if (to.family == NTK_ADDR_NONE)
        to = a->cfg.addr;
    if (to.port == 0)
        to.port = 123;
    for (size_t i = 0; i < e->nassoc; i++) {
        const struct ntk_addr *o = &e->assoc[i].cfg.addr;
        if (e->assoc[i].id != a->id && ntk_addr_eq(o, &to) && o->port == to.port)
            return; /* keep the old address rather than poll one server twice */
    }
    a->cfg.addr = to;
}

void eng_on_ke_result(struct eng *e, uint32_t assoc_id, const struct eng_ke_result *r,
                      const struct eng_now *now)
{
    struct assoc *a = eng_assoc_by_id(e, assoc_id);
    if (a == NULL || !a->nts.on)
        return;
    struct ntsc_stats before = a->nts.st;
    if (!r->ok || ntsc_ke_done(&a->nts, r->aead, r->c2s, r->s2c, r->key_len, r->cookies,
                               r->n_cookies, now->mono_ns) < 0) {
        if (!r->ok)
            ntsc_ke_failed(&a->nts, now->mono_ns);
        eng_nts_account(e, &before, &a->nts.st);
        return;
    }
    eng_nts_account(e, &before, &a->nts.st);
    move_to(e, a, &r->ntp);
    a->next_poll_mono_ns = now->mono_ns; /* poll at once: the KE took the start-up's time */
}
