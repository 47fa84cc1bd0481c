/* stub_server.c -- the one global the pure modules' tests need: config.c
 * writes its options into the server struct that server.c defines in the
 * real binary. Linked into every unit test, nothing else. */
#include "server.h"

struct server server;
