/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's command names (for prefix matching) and help texts, as NTPsec 1.2.2 has them. */
#include <stddef.h>

#include "nq_cmd.h"

#include "poison.h"

const struct nq_help nq_help_table[] = {
    {":config",
     "function: send a remote configuration command to ntpd\n"
     "usage: config <configuration command line>\n"
     "",
     "send a remote configuration command to ntpd"},
    {"EOF", NULL, "exit ntpq"},
    {"addvars",
     "function: add variables to the variable list or change their values\n"
     "usage: addvars name[=value][,...]\n"
     "",
     "add variables to the variable list or change their values"},
    {"apeers",
     "function: obtain and print a list of the server's peers and their\n"
     "          assocIDs [IP version]\n"
     "usage: apeers\n"
     "",
     "\n"
     "obtain and print a list of the server's peers and their assocIDs [IP version]\n"
     ""},
    {"associations",
     "function: print list of association IDs and statuses for the server's peers\n"
     "usage: associations\n"
     "",
     "print list of association IDs and statuses for the server's peers"},
    {"authenticate",
     "function: always authenticate requests to this server\n"
     "usage: authenticate [yes|no]\n"
     "",
     "always authenticate requests to this server"},
    {"authinfo",
     "function: display symmetric authentication counters\n"
     "usage: authinfo\n"
     "",
     "display symmetric authentication counters"},
    {"cl",
     "function: read the clock variables included in the variable list\n"
     "usage: cl [assocID]\n"
     "",
     "read the clock variables included in the variable list"},
    {"clearvars",
     "function: remove all variables from the variable list\n"
     "usage: clearvars\n"
     "",
     "remove all variables from the variable list"},
    {"clocklist",
     "function: read the clock variables included in the variable list\n"
     "usage: clocklist [assocID]\n"
     "",
     "read the clock variables included in the variable list"},
    {"clockvar",
     "function: read clock variables\n"
     "usage: clockvar [assocID] [name=value[,...]]\n"
     "",
     "read clock variables"},
    {"config-from-file",
     "function: configure ntpd using the configuration filename\n"
     "usage: config_from_file <configuration filename>\n"
     "",
     "configure ntpd using the configuration filename"},
    {"cooked",
     "function: do cooked mode variable output\n"
     "usage: cooked\n"
     "",
     "do cooked mode variable output"},
    {"cv",
     "function: read clock variables\n"
     "usage: cv [ assocID ] [ name=value[,...] ]\n"
     "",
     "read clock variables"},
    {"debug",
     "function: set/change debugging level\n"
     "usage: debug [no|more|less|n]\n"
     "",
     "set/change debugging level"},
    {"delay",
     "function: set the delay added to encryption time stamps\n"
     "usage: delay [ msec ]\n"
     "",
     "set the delay added to encryption time stamps"},
    {"direct",
     "function: toggle direct-mode MRU output\n"
     "usage: direct\n"
     "",
     "toggle direct mode output"},
    {"doflake",
     "function: Enables the dropping of control packets by\n"
     "ntpq for testing. Probabilities 0 and 1 should be\n"
     "certainly accepted and discarded respectively. No\n"
     "default, but 0.1 should be a one in ten loss rate.\n"
     "usage: doflake <probability>\n"
     "",
     "Drop some received packets for testing.\n"
     "\n"
     "        Probabilities 0 and 1 should be certainly accepted\n"
     "        and discarded respectively. No default, but 0.1\n"
     "        should be a one in ten loss rate.\n"
     "        "},
    {"exit",
     "function: exit ntpq\n"
     "usage: exit\n"
     "",
     "exit ntpq"},
    {"help",
     "function: tell the use and syntax of commands\n"
     "usage: help [ command ]\n"
     "",
     NULL},
    {"host",
     "function: specify the host whose NTP server we talk to\n"
     "usage: host [-4|-6] [hostname]\n"
     "",
     "specify the host whose NTP server we talk to"},
    {"hostnames",
     "function: specify whether hostnames or net numbers are printed\n"
     "usage: hostnames [yes|no|hostname|hostnum]\n"
     "",
     "specify whether hostnames or net numbers are printed"},
    {"ifstats",
     "function: show statistics for each local address ntpd is using\n"
     "usage: ifstats\n"
     "",
     "show statistics for each local address ntpd is using"},
    {"iostats",
     "function: display network input and output counters\n"
     "usage: iostats\n"
     "",
     "display network input and output counters"},
    {"kerninfo",
     "function: display kernel loop and PPS statistics\n"
     "usage: kerninfo\n"
     "",
     "display kernel loop and PPS statistics"},
    {"keyid",
     "function: set keyid to use for authenticated requests\n"
     "usage: keyid [key#]\n"
     "",
     "set keyid to use for authenticated requests"},
    {"keytype",
     "function: set key type to use for authenticated requests, one of:\n"
     "    DSA, MD4, MD5, MDC2, RIPEMD160, SHA-1, AES-CMAC\n"
     "usage: keytype [digest-name]\n"
     "",
     "set key type to use for authenticated requests"},
    {"lassociations",
     "function: print list of associations including all client information\n"
     "usage: lassociations\n"
     "",
     "print list of associations including all client information"},
    {"logfile", NULL,
     "view/change logfile. \"<stderr>\" will log to stderr\n"
     "           instead of a file"},
    {"lopeers",
     "function: obtain and print a list of all peers and clients showing\n"
     "          dstadr [IP version]\n"
     "usage: lopeers\n"
     "",
     "obtain and print a list of all peers and clients showing\n"
     "        dstadr [IP version]"},
    {"lpassociations",
     "function: print last obtained list of associations, including\n"
     "          client information\n"
     "usage: lpassociations\n"
     "",
     "print last obtained list of associations, including client information\n"
     ""},
    {"lpeers",
     "function: obtain and print a list of all peers and clients [IP version]\n"
     "usage: lpeers\n"
     "",
     "obtain and print a list of all peers and clients [IP version]"},
    {"monstats",
     "function: display monitor (mrulist) counters and limits\n"
     "usage: monstats\n"
     "",
     "display monitor (mrulist) counters and limits"},
    {"mreadlist",
     "function: read the peer variables in the variable list for multiple peers\n"
     "usage: mreadlist assocIDlow assocIDhigh\n"
     "",
     "read the peer variables in the variable list for multiple peers"},
    {"mreadvar",
     "function: read peer variables from multiple peers\n"
     "usage: mreadvar assocIDlow assocIDhigh [name=value[,...]]\n"
     "",
     "read peer variables from multiple peers"},
    {"mrl",
     "function: read the peer variables in the variable list for multiple peers\n"
     "usage: mrl assocIDlow assocIDhigh\n"
     "",
     "read the peer variables in the variable list for multiple peers"},
    {"mrulist",
     "function: display the list of most recently seen source addresses,\n"
     "          tags mincount=... resall=0x... resany=0x...\n"
     "usage: mrulist [tag=value] [tag=value] [tag=value] [tag=value]\n"
     "",
     "display the list of most recently seen source addresses,\n"
     "           tags mincount=... resall=0x... resany=0x..."},
    {"mrv",
     "function: read peer variables from multiple peers\n"
     "usage: mrv assocIDlow assocIDhigh [name=value[,...]]\n"
     "",
     "read peer variables from multiple peers"},
    {"noflake",
     "function: Disables the dropping of received packets by ntpq for testing.\n"
     "usage: noflake\n"
     "",
     "Disables the dropping of control packets by ntpq for testing."},
    {"ntpversion",
     "function: set the NTP version number to use for requests\n"
     "usage: ntpversion [version number]\n"
     "",
     "set the NTP version number to use for requests"},
    {"ntsinfo",
     "function: display NTS authentication counters\n"
     "usage: ntsinfo\n"
     "",
     "display NTS authentication counters"},
    {"opeers",
     "function: print peer list the old way, with dstadr shown rather than\n"
     "          refid [IP version]\n"
     "usage: opeers\n"
     "",
     "\n"
     "print peer list the old way, with dstadr shown rather than refid [IP version]\n"
     ""},
    {"passociations",
     "function: print list of associations returned by last associations command\n"
     "usage: passociations\n"
     "",
     "print list of associations returned by last associations command"},
    {"passwd",
     "function: specify a password to use for authenticated requests\n"
     "usage: passwd []\n"
     "",
     "specify a password to use for authenticated requests"},
    {"peers",
     "function: obtain and print a list of the server's peers [IP version]\n"
     "usage: peers\n"
     "",
     "obtain and print a list of the server's peers [IP version]"},
    {"poll",
     "function: poll an NTP server in client mode `n' times\n"
     "usage: poll [n] [verbose]\n"
     "",
     "poll an NTP server in client mode `n' times"},
    {"pstats",
     "function: show statistics for a peer\n"
     "usage: pstats assocID\n"
     "",
     "show statistics for a peer"},
    {"quit",
     "function: exit ntpq\n"
     "usage: quit\n"
     "",
     "exit ntpq"},
    {"raw",
     "function: do raw mode variable output\n"
     "usage: raw\n"
     "",
     "do raw mode variable output"},
    {"readlist",
     "function: read the system or peer variables included in the variable list\n"
     "usage: readlist [assocID]\n"
     "",
     "read the system or peer variables included in the variable list"},
    {"readvar",
     "function: read system or peer variables\n"
     "usage: readvar [assocID] [varname1] [varname2] [varname3]\n"
     "",
     "read system or peer variables"},
    {"reslist",
     "function: show ntpd access control list\n"
     "usage: reslist\n"
     "",
     "show ntpd access control list"},
    {"rl",
     "function: read the system or peer variables included in the variable list\n"
     "usage: rl [assocID]\n"
     "",
     "read the system or peer variables included in the variable list"},
    {"rmvars",
     "function: remove variables from the variable list\n"
     "usage: rmvars name[,...]\n"
     "",
     "remove variables from the variable list"},
    {"rpeers",
     "function: obtain and print a list of the server's peers (dextral)\n"
     "usage: rpeers\n"
     "",
     "obtain and print a list of the server's peers (dextral)"},
    {"rv",
     "function: read system or peer variables\n"
     "usage: rv [assocID] [varname1] [varname2] [varname3]\n"
     "",
     "read system or peer variables"},
    {"showvars",
     "function: print variables on the variable list\n"
     "usage: showvars\n"
     "",
     "print variables on the variable list"},
    {"sysinfo",
     "function: display system summary\n"
     "usage: sysinfo\n"
     "",
     "display system summary"},
    {"sysstats",
     "function: display system uptime and packet counts\n"
     "usage: sysstats\n"
     "",
     "display system uptime and packet counts"},
    {"timeout",
     "function: set the primary receive time out\n"
     "usage: timeout [ msec ]\n"
     "",
     "set the primary receive time out"},
    {"timerstats",
     "function: display interval timer counters\n"
     "usage: timerstats\n"
     "",
     "display interval timer counters"},
    {"units",
     "function: toggle unit display\n"
     "usage: units\n"
     "",
     "toggle unit display"},
    {"version",
     "function: print version number\n"
     "usage: version\n"
     "",
     "print version number"},
    {"writelist",
     "function: write the system or peer variables included in the variable list\n"
     "usage: writelist [ assocID ]\n"
     "",
     "write the system or peer variables included in the variable list"},
    {"writevar",
     "function: write system or peer variables\n"
     "usage: writevar assocID name=value,[...]\n"
     "",
     "write system or peer variables"},
    {NULL, NULL, NULL},
};

const char nq_help_listing[] =
    "\n"
    "Documented commands (type help <topic>):\n"
    "========================================\n"
    ":config           cv         keytype         ntpversion     rl        \n"
    "EOF               debug      lassociations   ntsinfo        rmvars    \n"
    "addvars           delay      logfile         opeers         rpeers    \n"
    "apeers            direct     lopeers         passociations  rv        \n"
    "associations      doflake    lpassociations  passwd         showvars  \n"
    "authenticate      exit       lpeers          peers          sysinfo   \n"
    "authinfo          help       monstats        poll           sysstats  \n"
    "cl                host       mreadlist       pstats         timeout   \n"
    "clearvars         hostnames  mreadvar        quit           timerstats\n"
    "clocklist         ifstats    mrl             raw            units     \n"
    "clockvar          iostats    mrulist         readlist       version   \n"
    "config-from-file  kerninfo   mrv             readvar        writelist \n"
    "cooked            keyid      noflake         reslist        writevar  \n"
    "\n"
    "";
