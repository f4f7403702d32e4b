/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig: query NTP servers once, print the time, optionally set the clock. */
#include "clk_linux.h"
#include "dig.h"

#include "poison.h"

int main(int argc, char **argv)
{
    return dig_main(argc, argv, ntk_clk_linux());
}
