/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's /probe: one SNTP exchange (lib/sntp.h over a fresh UDP socket with the
 * kernel's receive timestamp, as ntpdig does) or one NTS-KE plus NTS-protected exchange
 * (daemon/io/ke_cli.h, lib/nts_ef.h, as ntpdig --nts does) with a target, measured for
 * exp_render_probe. Blocking: it runs on the HTTP connection's own thread.
 */
#ifndef NTK_EXP_PROBE_H
#define NTK_EXP_PROBE_H

#include "exp.h"
#include "exp_http.h"

/* Probes req->host port req->port (the NTS-KE port when req->nts) within req->timeout_s
 * overall, verifying an NTS-KE server's certificate against nts_ca (a PEM file; NULL: the
 * system store). Writes every field of *out: success, or error set to one short reason
 * ("timeout", "unreachable", "lookup failed: ...", "kod RATE", "unsync", "nts-ke tls: ...",
 * "nts: reply not authenticated"). */
void exp_probe_run(const struct exp_probe_req *req, const char *nts_ca, struct exp_probe *out);

#endif /* NTK_EXP_PROBE_H */
