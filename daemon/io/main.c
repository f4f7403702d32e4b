/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd: the NTP daemon (daemon.h). */
#include <stdlib.h>

#include "daemon.h"
#include "log.h"

#include "poison.h"

int main(int argc, char **argv)
{
    struct ntpd_opts o;
    switch (opts_parse(argc, argv, &o)) {
    case OPTS_DONE:
        return 0;
    case OPTS_BAD:
        return 2;
    case OPTS_RUN:
        break;
    }
    log_set_level(o.debug > 0 ? LOG_DEBUG : LOG_INFO);
    if (o.logfile != NULL && log_to(LOG_SINK_FILE, o.logfile) != 0)
        return 1;
    if (o.check_config)
        return ntpd_check_config(&o);
    static struct ntpd d;
    int rc = ntpd_setup(&d, &o);
    if (rc == 0)
        rc = ntpd_run(&d);
    ntpd_free(&d);
    return rc;
}
