/* http.c -- the HTTP port (libevent's evhttp): /metrics in Prometheus text
 * format, and / a status page of the cluster as this node sees it: the
 * ring drawn with each node's partitions, node health, and transfers and
 * repairs with progress bars. The page is plain HTML and SVG, rendered
 * here, refreshing itself every 2 s: nothing to install, no script.
 *
 * API: httpInit() (listens on http-port if set), httpShutdown(). */
#include "http.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aae.h"
#include "coord.h"
#include "db.h"
#include "gossip.h"
#include "handoff.h"
#include "hints.h"
#include "metrics.h"
#include "server.h"

static struct evhttp *http;

static const char *palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define NPALETTE ((int)(sizeof(palette) / sizeof(palette[0])))

static void html(buf *o, const char *s) { /* escaped text */
    for (; *s; s++) {
        switch (*s) {
        case '<': bufAppendStr(o, "&lt;"); break;
        case '>': bufAppendStr(o, "&gt;"); break;
        case '&': bufAppendStr(o, "&amp;"); break;
        case '"': bufAppendStr(o, "&quot;"); break;
        default: bufAppend(o, s, 1);
        }
    }
}

static void progressBar(buf *o, const char *id, const char *label, double frac, const char *detail) {
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    bufPrintf(o,
              "<div class=\"job\" id=\"%s\"><div class=\"label\">", id);
    html(o, label);
    bufPrintf(o,
              "</div><div class=\"bar\"><div class=\"fill\" style=\"width:%.1f%%\"></div></div>"
              "<div class=\"pct\">%.0f%%</div><div class=\"detail\">",
              frac * 100, frac * 100);
    html(o, detail);
    bufAppendStr(o, "</div></div>\n");
}

static void statusPage(buf *o) {
    int n = gossipCount();
    memberInfo *m = zmalloc(sizeof(memberInfo) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) gossipMemberInfo(i, &m[i]);
    unsigned q = (unsigned)server.ring_partitions;
    int *prim = zcalloc(sizeof(int) * (size_t)n), *held = zcalloc(sizeof(int) * (size_t)n);
    int *first = zmalloc(sizeof(int) * q);
    /* a node's color is the rank of its id among the members, not its
     * index in this node's table (which lists "myself" first): the same
     * ring looks the same on every node's page */
    int *color = zcalloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (strcmp(m[j].id, m[i].id) < 0) color[i]++;
    for (unsigned p = 0; p < q; p++) {
        int owners[64];
        int k = gossipOwners(p, owners);
        first[p] = k ? owners[0] : -1;
        if (k) prim[owners[0]]++;
        for (int i = 0; i < k; i++) held[owners[i]]++;
    }
    bufAppendStr(o, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"refresh\" content=\"2\"><title>ringkv</title><style>"
                    "body{font-family:sans-serif;margin:24px;color:#222}"
                    "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}"
                    ".up{color:#2a7}.down{color:#c33}.suspect{color:#d80}"
                    ".swatch{display:inline-block;width:12px;height:12px;margin-right:6px}"
                    ".job{display:flex;gap:10px;align-items:center;margin:6px 0}"
                    ".label{width:260px}.bar{width:300px;height:14px;background:#eee;border-radius:7px;overflow:hidden}"
                    ".fill{height:100%;background:#4e79a7}.pct{width:48px}"
                    "</style></head><body>\n");
    bufPrintf(o, "<h1>ringkv cluster</h1><p id=\"self\">as seen by node %.40s at %s:%d</p>\n",
              server.node_id, server.announce_host, server.port);

    /* the ring: one arc per partition, colored by its first owner */
    bufAppendStr(o, "<h2>Ring</h2><svg id=\"ring\" width=\"360\" height=\"360\" viewBox=\"-180 -180 360 360\">\n");
    for (unsigned p = 0; p < q; p++) {
        double a0 = 2 * M_PI * p / q - M_PI / 2, a1 = 2 * M_PI * (p + 1) / q - M_PI / 2;
        double r0 = 110, r1 = 160;
        const char *fill = first[p] >= 0 ? palette[color[first[p]] % NPALETTE] : "#ccc";
        bufPrintf(o,
                  "<path class=\"partition\" data-partition=\"%u\" data-owner=\"%s\" fill=\"%s\" "
                  "stroke=\"#fff\" stroke-width=\"0.3\" d=\"M %.2f %.2f A %d %d 0 0 1 %.2f %.2f L %.2f %.2f "
                  "A %d %d 0 0 0 %.2f %.2f Z\"/>\n",
                  p, first[p] >= 0 ? m[first[p]].id : "", fill, r1 * cos(a0), r1 * sin(a0), 160,
                  160, r1 * cos(a1), r1 * sin(a1), r0 * cos(a1), r0 * sin(a1), 110, 110,
                  r0 * cos(a0), r0 * sin(a0));
    }
    bufPrintf(o, "<text x=\"0\" y=\"-6\" text-anchor=\"middle\" font-size=\"20\">%u partitions</text>"
                 "<text x=\"0\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">replication %s</text></svg>\n",
              q, server.replication);

    /* nodes */
    bufAppendStr(o, "<h2>Nodes</h2><table id=\"nodes\"><tr><th>node</th><th>address</th><th>dc / rack</th>"
                    "<th>weight</th><th>health</th><th>status</th><th>partitions (first owner)</th>"
                    "<th>replicas held</th></tr>\n");
    for (int i = 0; i < n; i++) {
        const char *health = gossipHealthName(m[i].health);
        const char *status = gossipStatusName(m[i].status);
        bufPrintf(o, "<tr class=\"node\" data-node=\"%s\"><td><span class=\"swatch\" style=\"background:%s\"></span>%.12s%s</td>",
                  m[i].id, palette[color[i] % NPALETTE], m[i].id, i == gossipSelf() ? " (this node)" : "");
        bufPrintf(o, "<td>%s:%d</td><td>", m[i].host, m[i].port);
        html(o, m[i].dc);
        bufAppendStr(o, " / ");
        html(o, m[i].rack);
        bufPrintf(o, "</td><td>%d</td><td class=\"health %s\">%s</td><td class=\"status\">%s</td>"
                     "<td class=\"primary\">%d</td><td class=\"held\">%d</td></tr>\n",
                  m[i].weight, health, health, status, prim[i], held[i]);
    }
    bufAppendStr(o, "</table>\n");

    /* transfers and repairs */
    bufAppendStr(o, "<h2>Transfers and repairs</h2>\n");
    unsigned tp = 0, done = 0, total = 0;
    long long tk = 0, tt = 0, rk = 0;
    int remaining = 0, jobs = 0;
    if (handoffProgress(&tp, &tk, &tt, &remaining)) {
        char label[96], detail[128];
        snprintf(label, sizeof(label), "transfer of partition %u", tp);
        snprintf(detail, sizeof(detail), "%lld of ~%lld keys", tk, tt);
        progressBar(o, "transfer", label, tt > 0 ? (double)tk / (double)tt : 0, detail);
        jobs++;
    }
    if (remaining) {
        /* the whole change as one bar: the partitions this node gains (in
         * the future ring, not in the current one: handoff.c's isGain) and
         * how many of them it has received. Each partition's own transfer
         * above lasts a moment when partitions are small. */
        int gains = 0, self = gossipSelf();
        for (unsigned p = 0; p < q; p++) {
            int cur[64], fut[64], inCur = 0, inFut = 0;
            int nc = gossipOwners(p, cur), nf = gossipFutureOwners(p, fut);
            for (int i = 0; i < nc; i++) inCur |= cur[i] == self;
            for (int i = 0; i < nf; i++) inFut |= fut[i] == self;
            if (inFut && !inCur) gains++;
        }
        if (gains < remaining) gains = remaining;
        char detail[128];
        snprintf(detail, sizeof(detail), "%d of %d partitions received", gains - remaining, gains);
        progressBar(o, "transfers", "partitions to receive here",
                    (double)(gains - remaining) / gains, detail);
        bufPrintf(o, "<p id=\"transfers-remaining\">%d partitions still to receive here</p>\n", remaining);
        jobs++;
    }
    if (aaeProgress(&done, &total, &rk)) {
        char detail[128];
        snprintf(detail, sizeof(detail), "%u of %u partitions, %lld keys repaired", done, total, rk);
        progressBar(o, "repair", "anti-entropy pass", total ? (double)done / total : 1, detail);
        jobs++;
    }
    if (!jobs) bufAppendStr(o, "<p id=\"idle\">no transfer or repair in progress</p>\n");
    bufPrintf(o, "<p id=\"hints\">hints waiting for delivery here: %lld</p>\n", hintsPending());
    bufAppendStr(o, "<p><a href=\"/metrics\">/metrics</a></p></body></html>\n");
    zfree(m);
    zfree(prim);
    zfree(held);
    zfree(first);
    zfree(color);
}

static void handle(struct evhttp_request *req, void *arg) {
    UNUSED(arg);
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out = evbuffer_new();
    buf b;
    bufInit(&b);
    if (!strcmp(uri, "/metrics")) {
        metricsPrometheus(&b);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/plain; version=0.0.4");
    } else if (!strcmp(uri, "/") || !strncmp(uri, "/?", 2)) {
        statusPage(&b);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/html; charset=utf-8");
    } else {
        evbuffer_add_printf(out, "not found\n");
        evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", out);
        evbuffer_free(out);
        bufFree(&b);
        return;
    }
    evbuffer_add(out, b.ptr ? b.ptr : "", b.len);
    evhttp_send_reply(req, HTTP_OK, "OK", out);
    evbuffer_free(out);
    bufFree(&b);
}

int httpInit(void) {
    if (!server.http_port) return C_OK;
    http = evhttp_new(server.base);
    if (!http || evhttp_bind_socket(http, server.bind, (uint16_t)server.http_port) != 0) {
        serverLog(LL_WARNING, "Could not listen for HTTP on %s:%d", server.bind, server.http_port);
        return C_ERR;
    }
    evhttp_set_gencb(http, handle, NULL);
    serverLog(LL_NOTICE, "Status page and /metrics on http://%s:%d/", server.announce_host,
              server.http_port);
    return C_OK;
}

void httpShutdown(void) {
    if (http) evhttp_free(http);
    http = NULL;
}
