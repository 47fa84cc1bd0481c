/* busreader.c -- hiredis's RESP parser with one-allocation reply objects and
 * a cap on arrays. See busreader.h. */
#include "busreader.h"

#include <string.h>

#include "util.h"

static redisReplyObjectFunctions fns; /* filled once; integers and nils are hiredis's */

static void attach(const redisReadTask *task, redisReply *r) {
    if (task->parent) ((redisReply *)task->parent->obj)->element[task->idx] = r;
}

static void *createArray(const redisReadTask *task, int elements) {
    if (elements < 0 || elements > BUSREADER_MAX_ARRAY) return NULL; /* hiredis: a protocol error */
    redisReply *r = zcalloc(sizeof(redisReply) + sizeof(redisReply *) * (size_t)elements);
    r->type = REDIS_REPLY_ARRAY;
    r->elements = (size_t)elements;
    r->element = elements ? (redisReply **)(r + 1) : NULL;
    attach(task, r);
    return r;
}

static void *createString(const redisReadTask *task, char *str, size_t len) {
    redisReply *r = zmalloc(sizeof(redisReply) + len + 1);
    memset(r, 0, sizeof(*r));
    r->type = task->type;
    r->str = (char *)(r + 1);
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    attach(task, r);
    return r;
}

void busFreeReply(void *o) {
    redisReply *r = o;
    if (!r) return;
    if (r->type == REDIS_REPLY_ARRAY) /* a partial one may have NULL elements */
        for (size_t i = 0; i < r->elements; i++) busFreeReply(r->element[i]);
    zfree(r); /* strings and element tables are part of their object */
}

redisReader *busReaderCreate(void) {
    if (!fns.createArray) {
        redisReader *tmp = redisReaderCreate();
        fns = *tmp->fn;
        redisReaderFree(tmp);
        fns.createArray = createArray;
        fns.createString = createString;
        fns.freeObject = busFreeReply;
    }
    redisReader *r = redisReaderCreateWithFunctions(&fns);
    if (r) r->maxbuf = 0;
    return r;
}
