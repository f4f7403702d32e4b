/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's state files: an atomic file writer (temp file, fsync, rename, fsync of the directory)
 * and the drift file in NTPsec's format, with its strict parser and NTPsec's write policy.
 *
 * The drift file is one line holding the frequency correction in ppm as a decimal number,
 * "-12.345678\n". NTPsec 1.2 writes it with "%.6f\n" (ntp_util.c drift_write); ntpd 4.2.8
 * wrote "%.3f\n". NTPsec reads it with fscanf("%lf"), which takes "nan", "inf", "1e300" or
 * "12abc" as well; here the parser accepts only a plain decimal within +-500 ppm (the kernel's
 * and NTPsec's NTP_MAXFREQ) and names the reason for anything else, so a corrupt file is
 * reported and ignored, never trusted.
 */
#ifndef NTK_FILES_H
#define NTK_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ntk/sb.h"

/* Largest frequency correction accepted or written, ppm (NTPsec NTP_MAXFREQ = 500e-6). */
#define DRIFT_MAX_PPM 500.0

/* Largest drift file read, bytes: a real one is about 12; anything longer is corrupt. */
#define DRIFT_FILE_MAX 128

/* Seconds between two evaluations of the write policy (NTPsec's hourly write_stats). */
#define DRIFT_CHECK_INTERVAL_S 3600

/* Change that forces a write right after one, ppm (NTPsec wander_threshold = 1e-7 s/s). */
#define DRIFT_WANDER_THRESHOLD_PPM 0.1

/* Writes len bytes of data to path atomically: a new file next to it (same directory, name
 * "<path>.<pid>.<n>.tmp", created with O_EXCL and then given exactly mode, umask aside),
 * written in full, fsync'd, renamed over path, then the directory fsync'd so that the rename
 * itself survives a crash. Readers see either the old file or the new one, never a mix.
 * Returns 0, or the errno of the step that failed, with "path: step: reason" appended to err
 * (may be NULL). On any failure before the rename the temp file is removed and path is left
 * as it was. A temp file of path that a writer killed before its rename left behind is
 * removed by the next write once it is a minute old. */
int files_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       struct ntk_sb *err);

/* Parses a drift file's text (len bytes, need not be NUL-terminated): optional spaces or
 * tabs, an optional sign, digits with an optional '.' and at most 12 fraction digits (at
 * least one digit in all), optional trailing spaces, tabs, "\r", then optionally "\n" and
 * nothing else. The value must lie within +-DRIFT_MAX_PPM. Returns 0 and writes *freq_ppm
 * (the correctly rounded value of the decimal), or NTK_EFORMAT / NTK_ERANGE with *reason set
 * to a static English explanation; *freq_ppm is written only on success. */
int drift_parse(const char *text, size_t len, double *freq_ppm, const char **reason);

/* Appends freq_ppm as NTPsec writes it, "%.6f\n" (the line drift_parse reads back to within
 * 5e-7 ppm). Returns 0, NTK_EINVAL for a NaN, infinite or out-of-range value (nothing
 * appended), or NTK_ENOSPC from the builder. */
int drift_format(double freq_ppm, struct ntk_sb *sb);

/* What drift_read found. */
enum drift_status {
    DRIFT_OK = 0,      /* *freq_ppm holds the file's frequency */
    DRIFT_NOFILE = 1,  /* the file does not exist: start from 0 ppm, quietly */
    DRIFT_CORRUPT = 2, /* the file is there but unusable; reason in err; ignore it */
    DRIFT_IOERR = 3,   /* it could not be opened or read (errno text in err) */
};

/* Reads and parses the drift file at path. Writes *freq_ppm only for DRIFT_OK; for the other
 * results except DRIFT_NOFILE appends "path: reason" to err (may be NULL). */
enum drift_status drift_read(const char *path, double *freq_ppm, struct ntk_sb *err);

/* Writes freq_ppm to path with drift_format and files_write_atomic (mode 0644: NTPsec issue
 * #409, tools running as another user read it). Returns 0, EINVAL for a value drift_format
 * refuses, or the errno files_write_atomic returned; err as there. */
int drift_write(const char *path, double freq_ppm, struct ntk_sb *err);

/* State of NTPsec's drift-file write policy (ntp_util.c write_stats). Plain data. */
struct drift_policy {
    double written_ppm;   /* frequency last written (or read at start), ppm */
    double resid_ppm;     /* current change threshold, ppm; halves every quiet check */
    int64_t last_check_s; /* time of the last evaluation, any monotonic seconds */
    double threshold_ppm; /* the threshold after a write (`driftfile F X`, `nonvolatile X`) */
};

/* Starts the policy at now_s with the frequency in effect (read from the drift file, or 0):
 * the threshold starts at 0, so the first hourly check writes, as NTPsec's does; the one
 * after a write is DRIFT_WANDER_THRESHOLD_PPM until the caller sets threshold_ppm. */
void drift_policy_init(struct drift_policy *p, double freq_ppm, int64_t now_s);

/* Decides whether to write freq_ppm now; pure: reads *p, writes the next state to *next
 * (which may be p). At most one evaluation per DRIFT_CHECK_INTERVAL_S: before that, false
 * and the state is unchanged. Then, as NTPsec: if |freq - written| < resid the threshold
 * halves and the answer is false; otherwise written = freq, resid = threshold_ppm, and the
 * answer is true. So a change of threshold_ppm (0.1 ppm) or more is written at the next
 * check, a smaller one some hours later as the threshold halves, and an
 * unchanged frequency is not rewritten. A NaN or out-of-range freq is never written. */
bool drift_should_write(const struct drift_policy *p, double freq_ppm, int64_t now_s,
                        struct drift_policy *next);

#endif /* NTK_FILES_H */
