/* read.h -- a read at its coordinator (read.c).
 *
 * API:
 *   readStart(r, db, key, cb, pd)   read (db, key) at r's read level */
#ifndef RINGKV_READ_H
#define RINGKV_READ_H

#include "coord.h"

/* Takes one pending count on r until cb has run; key is copied. */
void readStart(request *r, int db, const char *key, size_t klen, coordCallback *cb, void *pd);

#endif
