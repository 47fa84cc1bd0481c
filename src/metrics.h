/* metrics.h -- latency histograms, SLOWLOG, INFO latencystats and the
 * Prometheus text rendering of /metrics.
 *
 * A histogram has log-linear buckets (8 per power of two, so a percentile
 * is within 9% of the truth) from 1 us up; recording is O(1).
 *
 * API:
 *   histRecord(h, us) / histPercentile(h, p)
 *   metricsCommand(cmd, us)               per-command latency (request.c)
 *   metricsCoord(write, level, us, ok)    per consistency level (read.c, write.c, forward.c)
 *   slowlogMaybeAdd(r, us)                SLOWLOG (request.c)
 *   slowlogCommand(r)
 *   metricsLatencyInfo(out)               INFO latencystats
 *   metricsPrometheus(out)                /metrics body */
#ifndef RINGKV_METRICS_H
#define RINGKV_METRICS_H

#include <stdint.h>

#include "request.h"

#define HIST_BUCKETS 320

typedef struct hist {
    uint64_t count;
    uint64_t sum_us;
    uint64_t b[HIST_BUCKETS];
} hist;

void histRecord(hist *h, uint64_t us);
uint64_t histPercentile(const hist *h, double p); /* microseconds */
/* Observations at or below le_us (for Prometheus buckets). */
uint64_t histCountLE(const hist *h, uint64_t le_us);

struct command;
void metricsCommand(const struct command *c, long long us);
void metricsCoord(int write, int level, long long us, int ok);
void slowlogMaybeAdd(request *r, long long us);
void slowlogCommand(request *r);
void metricsLatencyInfo(buf *out);
void metricsPrometheus(buf *out);
void metricsReset(void);

#endif
