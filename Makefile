# ringkv -- `make` builds src/ringkv-server; `make test` runs every test;
# `make run` starts a local cluster. Dependencies come from Debian (deps/).

CC ?= cc
OPT ?= -O2
WARN = -Wall -Wextra -Wno-unused-parameter
CFLAGS_ALL = $(OPT) -g -std=gnu11 $(WARN) -D_GNU_SOURCE $(CFLAGS)
# Debian's static librocksdb.a is built with NDEBUG and avoids the shared
# library's TLS trampolines (measured faster); it needs its codecs linked.
ROCKSDB_LIBS = -Wl,-Bstatic -lrocksdb -Wl,-Bdynamic -lsnappy -llz4 -lzstd -lbz2 -lz -luring -lstdc++ -lm -ldl -lpthread
LIBS = -levent -levent_openssl -lhiredis -lxxhash -lssl -lcrypto $(ROCKSDB_LIBS) -ljemalloc

SRC = $(filter-out src/server.c,$(wildcard src/*.c))
OBJ = $(SRC:.c=.o)
SERVER = src/ringkv-server
PURE = src/util.o src/resp.o src/vclock.o src/record.o

.PHONY: all deps test unit e2e redis-tests run stop clean fault bench

all: deps $(SERVER)

deps:
	@bash deps/install.sh

src/%.o: src/%.c src/*.h
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(SERVER): $(OBJ) src/server.o
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS)

# ---- tests ----
UNIT_TESTS = $(patsubst tests/unit/%.c,tests/unit/%,$(wildcard tests/unit/test_*.c))

# Unit tests cover the pure modules: they link only those (no sockets, no
# RocksDB), plus the server struct config.c writes into.
UNIT_OBJ = src/util.o src/log.o src/resp.o src/vclock.o src/record.o src/config.o src/ring.o

tests/unit/test_%: tests/unit/test_%.c tests/unit/stub_server.c $(UNIT_OBJ) src/*.h
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< tests/unit/stub_server.c $(UNIT_OBJ) -levent -lxxhash -lm -lcriterion

unit: deps $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; ./$$t --jobs 2; done

e2e: all
	@bash tests/run-e2e.sh

redis-tests: all
	@bash redis-tests/run.sh

cluster: all
	@bash tests/run-cluster.sh

test: all unit e2e cluster redis-tests
	@echo "ALL TESTS PASSED"

run: all
	@bash utils/create-cluster start

stop:
	@bash utils/create-cluster stop

# ringkv against redis-server with redis-benchmark (not part of `make test`);
# BENCH_SECONDS=3 for a quick run, see utils/bench for the other settings.
bench: all
	@/usr/bin/python3 utils/bench

clean:
	rm -f src/*.o $(SERVER) $(UNIT_TESTS)
