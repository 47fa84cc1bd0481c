/* outflush.h -- output written once per pass of the event loop (outflush.c
 * has the contract with the bufferevents' owners). */
#ifndef OUTFLUSH_H
#define OUTFLUSH_H

struct bufferevent;

/* Turns reading on for a new connection, and writing only for TLS (a plain
 * socket is written by outflushRun). */
void outflushEnable(struct bufferevent *bev);
/* For the owner's write callback (output drained): a plain socket's writing
 * goes back to outflushRun. */
void outflushDrained(struct bufferevent *bev);
/* bev's output is written at the end of this pass of the loop. bev is
 * borrowed until then (see outflushForget); TLS bufferevents are ignored. */
void outflushQueue(struct bufferevent *bev);
/* Drops bev from the queue: call before freeing it. */
void outflushForget(struct bufferevent *bev);
/* Writes the queued output; the main loop calls it after every pass. */
void outflushRun(void);

#endif
