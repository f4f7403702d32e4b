/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's side of server names: an association moved to the new address its name
 * resolves to (the daemon re-resolves the names of unreachable servers, as chrony does). */
#include <stdint.h>

#include "engine_internal.h"
#include "ntk/err.h"

#include "poison.h"

int eng_set_server_addr(struct eng *e, uint32_t id, const struct ntk_addr *addr,
                        const struct eng_now *now)
{
    struct assoc *a = eng_assoc_by_id(e, id);
    if (a == NULL)
        return NTK_ENOTFOUND;
    if (a->refclock)
        return NTK_EINVAL; /* a refclock has no address to move */
    if (addr->family != NTK_ADDR_V4 && addr->family != NTK_ADDR_V6)
        return NTK_EINVAL;
    struct eng_server_cfg cfg = a->cfg;
    cfg.addr = *addr;
    ntk_addr_unmap(&cfg.addr);
    cfg.addr.port = addr->port != 0 ? addr->port : a->cfg.addr.port;
    for (size_t i = 0; i < e->nassoc; i++) {
        const struct ntk_addr *o = &e->assoc[i].cfg.addr;
        if (e->assoc[i].id != id && ntk_addr_eq(o, &cfg.addr) && o->port == cfg.addr.port)
            return NTK_EINVAL;
    }
    /* A new server: nothing learnt from the old address (filter, reach, poll) carries over.
     * The id stays, so the daemon's view (names, restrict source) follows it. */
    assoc_init(a, id, &cfg, e->cfg.tinker.phi_ppm, now->mono_ns, eng_rand32(e));
    filter_set_every_sample(&a->filt, true);
    assoc_set_poll(a, disc_poll_log2(&e->disc));
    if (e->sys.sys_peer == id)
        eng_clock_select(e, now, 0); /* the system peer is gone: select again */
    return 0;
}
