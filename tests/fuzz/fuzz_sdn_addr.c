/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for sdn_parse_addr: any $NOTIFY_SOCKET value is refused or becomes an AF_UNIX
 * address holding exactly that path (or abstract name) within sun_path. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../../daemon/io/sdnotify.h"
#include "fuzz.h"

#include "poison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char value[300];
    size_t n = size < sizeof value - 1 ? size : sizeof value - 1;
    memcpy(value, data, n);
    value[n] = '\0';
    size_t len = strlen(value); /* the environment value ends at the first NUL */

    struct sockaddr_un sa;
    memset(&sa, 0x5a, sizeof sa);
    size_t alen = 12345;
    int rc = sdn_parse_addr(value, &sa, sizeof sa, &alen);
    const size_t base = offsetof(struct sockaddr_un, sun_path);
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL || rc == -ENAMETOOLONG || rc == -EAFNOSUPPORT);
        FUZZ_CHECK(alen == 12345); /* out-parameters untouched on failure */
        FUZZ_CHECK(sa.sun_family == (sa_family_t)0x5a5a);
        return 0;
    }
    FUZZ_CHECK(len >= 1 && (value[0] == '/' || value[0] == '@'));
    FUZZ_CHECK(sa.sun_family == AF_UNIX);
    FUZZ_CHECK(alen > base && alen <= sizeof sa);
    if (value[0] == '/') {
        FUZZ_CHECK(alen == base + len + 1);
        FUZZ_CHECK(memcmp(sa.sun_path, value, len + 1) == 0); /* NUL-terminated path */
    } else {
        FUZZ_CHECK(alen == base + len);
        FUZZ_CHECK(sa.sun_path[0] == '\0');
        FUZZ_CHECK(memcmp(sa.sun_path + 1, value + 1, len - 1) == 0);
    }
    return 0;
}
