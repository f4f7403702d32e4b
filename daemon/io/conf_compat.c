/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf directives NTPsec takes that set little or nothing here: nonvolatile and dscp
 * (applied), mdnstries, tick and phone (accepted with a warning saying why they do nothing),
 * reset (counters are zero at start anyway). A configuration written for NTPsec thus starts
 * unchanged; ntp.conf(5) lists them. */
#include "conf_internal.h"

#include "poison.h"

int conf_do_nonvolatile(struct cline *l)
{
    double x;
    if (cl_double(l, "nonvolatile", 0, 1e-3, &x) < 0 || cl_end(l) < 0) {
        return -1;
    }
    l->c->drift_threshold_ppm = x * 1e6; /* NTPsec's threshold is in s/s */
    return 0;
}

int conf_do_dscp(struct cline *l)
{
    uint32_t v;
    if (cl_u32(l, "dscp", 0, 63, &v) < 0 || cl_end(l) < 0) {
        return -1;
    }
    l->c->dscp = (uint8_t)v;
    return 0;
}

int conf_do_mdnstries(struct cline *l)
{
    uint32_t v;
    if (cl_u32(l, "mdnstries", 0, UINT32_MAX, &v) < 0 || cl_end(l) < 0) {
        return -1;
    }
    cl_warn(l, 0, "mdnstries: this ntpd does not register with mDNS; ignored");
    return 0;
}

int conf_do_reset(struct cline *l)
{
    static const char *const sets[] = {"allpeers", "auth", "ctl", "io", "mem", "sys", "timer"};
    char b[64];
    if (!cl_more(l)) {
        return cl_err(l, l->n, "reset: missing counter set");
    }
    for (; cl_more(l); l->i++) {
        size_t i = 0;
        while (i < sizeof sets / sizeof sets[0] && !cl_is(l, l->i, sets[i])) {
            i++;
        }
        if (i == sizeof sets / sizeof sets[0]) {
            return cl_err(
                l, l->i,
                "reset: unknown counter set '%s' (allpeers, auth, ctl, io, mem, sys, "
                "timer)",
                cl_show(l, l->i, b));
        }
    }
    return 0; /* at start every counter is zero: nothing to do */
}

int conf_do_tick(struct cline *l)
{
    double x;
    if (cl_double(l, "tick", 0, 1, &x) < 0 || cl_end(l) < 0) {
        return -1;
    }
    cl_warn(l, 0, "tick: this ntpd measures its clock's resolution itself; ignored");
    return 0;
}

int conf_do_phone(struct cline *l)
{
    if (!cl_more(l)) {
        return cl_err(l, l->n, "phone: missing number");
    }
    l->i = l->n;
    cl_warn(l, 0, "phone: no modem reference clock is built into this ntpd; ignored");
    return 0;
}
