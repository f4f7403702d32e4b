/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq: query NTP servers with mode 6 control requests (NTPsec-compatible). */
#include "nq_main.h"

#include "poison.h"

int main(int argc, char **argv)
{
    return nq_main(argc, argv);
}
