/* http.h -- /metrics and the status page on http-port. See http.c. */
#ifndef RINGKV_HTTP_H
#define RINGKV_HTTP_H

int httpInit(void);
void httpShutdown(void);

#endif
