/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpleapfetch: refresh the leap-seconds file that ntpd's leapfile directive reads. */
#include "lf.h"

#include "poison.h"

int main(int argc, char **argv)
{
    return lf_main(argc, argv);
}
