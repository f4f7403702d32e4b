/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpleapfetch's download: libcurl into a bounded buffer, bounded in time, http(s) only. */
#include "lf.h"

#include <curl/curl.h>
#include <string.h>

#include "poison.h"

struct sink {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

static size_t take(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t bytes = size * n;
    if (bytes > s->cap - s->len) {
        s->overflow = true;
        return 0; /* libcurl then fails with CURLE_WRITE_ERROR */
    }
    memcpy(s->buf + s->len, data, bytes);
    s->len += bytes;
    return bytes;
}

static bool setup(CURL *c, const char *url, long timeout_s, struct sink *s, char *errbuf)
{
    return curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->cap) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_USERAGENT, "ntpleapfetch (ntpkit)") == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_WRITEDATA, s) == CURLE_OK;
}

int lf_fetch(const char *url, long timeout_s, char *buf, size_t cap, size_t *len,
             struct ntk_sb *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink s = {buf, cap, 0, false};
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ntk_sb_puts(err, "libcurl initialisation failed");
        return -1;
    }
    CURL *c = curl_easy_init();
    int rc = -1;
    if (c == NULL || !setup(c, url, timeout_s, &s, errbuf)) {
        ntk_sb_puts(err, "libcurl setup failed");
    } else {
        CURLcode cc = curl_easy_perform(c);
        if (s.overflow)
            ntk_sb_printf(err, "%s: larger than %zu bytes", url, cap);
        else if (cc != CURLE_OK)
            ntk_sb_printf(err, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        else
            rc = 0;
    }
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc == 0)
        *len = s.len;
    return rc;
}
