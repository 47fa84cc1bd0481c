/* log.h -- Redis-style log lines: "pid:M 23 Nov 2026 23:40:01.123 * message".
 *
 * API: serverLog(level, fmt, ...), logSetup(path, level), logLevelFromName().
 * Levels as Redis: debug (.), verbose (-), notice (*), warning (#). */
#ifndef RINGKV_LOG_H
#define RINGKV_LOG_H

#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3

void logSetup(const char *path, int level); /* path NULL or "" = stdout */
void logSetLevel(int level);
int logLevelFromName(const char *name); /* -1 if unknown */
const char *logLevelName(int level);
void serverLog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
