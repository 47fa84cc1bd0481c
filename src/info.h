/* info.h -- INFO in Redis's format, per-command stats, instantaneous ops
 * (info.c).
 *
 * API:
 *   infoCommand(r)                        INFO [section ...]
 *   infoRecordCommand(cmd, us, failed)    a command completed (request.c)
 *   infoTrackOps()                        the ops/sec sample (server.c's cron)
 *   infoResetStats()                      CONFIG RESETSTAT */
#ifndef RINGKV_INFO_H
#define RINGKV_INFO_H

#include "request.h"

void infoCommand(request *r);
void infoRecordCommand(const struct command *cmd, long long us, int failed);
void infoTrackOps(void);
void infoResetStats(void);

#endif
