/* busreader.h -- the RESP reader of the cluster bus: hiredis's parser with
 * reply objects of our own. Pure (no I/O, no globals but the function
 * table); bus.c reads every peer's bytes through it and tests/fuzz/fuzz_bus.c
 * fuzzes it.
 *
 * hiredis's own objects take two allocations per string (the object, then
 * its bytes) and two per array (the object, then its element table); ours
 * take one each, which with the frees was a fifth of parsing a PUT. And an
 * array's element table is allocated when its "*N" header is read, before
 * anything is authenticated ("*2147483647" would reserve 16 GB): arrays
 * beyond BUSREADER_MAX_ARRAY elements are refused (the reader then reports
 * a protocol error, and bus.c closes the connection).
 *
 * API:
 *   busReaderCreate()     a hiredis redisReader using these objects, no
 *                         buffer limit (free it with redisReaderFree)
 *   busFreeReply(reply)   frees a reply it made (never freeReplyObject)
 *
 * Replies are hiredis's redisReply: strings (and statuses, errors) are
 * NUL-terminated at len, arrays' elements are never NULL once complete. */
#ifndef RINGKV_BUSREADER_H
#define RINGKV_BUSREADER_H

#include <hiredis/hiredis.h>

/* A partition's SCAN answer is the largest array we send: far below. */
#define BUSREADER_MAX_ARRAY (1 << 24)

redisReader *busReaderCreate(void);
void busFreeReply(void *reply);

#endif
