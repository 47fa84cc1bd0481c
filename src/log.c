/* log.c -- log lines in Redis's format, to a file or stdout. See log.h.
 * The file is opened per line, as Redis does, so logrotate's move-and-reopen
 * works without a signal. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char logpath[1024];
static int loglevel = LL_NOTICE;

static const char *names[] = {"debug", "verbose", "notice", "warning"};

void logSetup(const char *path, int level) {
    snprintf(logpath, sizeof(logpath), "%s", path ? path : "");
    loglevel = level;
}

void logSetLevel(int level) { loglevel = level; }

int logLevelFromName(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(name, names[i])) return i;
    return -1;
}

const char *logLevelName(int level) {
    return (level >= 0 && level < 4) ? names[level] : "notice";
}

void serverLog(int level, const char *fmt, ...) {
    if (level < loglevel) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    size_t off = strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(ts + off, sizeof(ts) - off, "%03d", (int)tv.tv_usec / 1000);

    FILE *fp = logpath[0] ? fopen(logpath, "a") : stdout;
    if (!fp) return;
    fprintf(fp, "%d:M %s %c %s\n", (int)getpid(), ts, ".-*#"[level < 0 ? 0 : level > 3 ? 3 : level],
            msg);
    fflush(fp);
    if (logpath[0]) fclose(fp);
}
