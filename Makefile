# ringkv -- `make` builds src/ringkv-server; `make test` runs every test;
# `make run` starts a local cluster. Dependencies come from Debian (deps/).

CC ?= cc
OPT ?= -O2
# A call to a function no included header declares is an error: an engine
# file cannot call up without including the header make layering checks.
WARN = -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration
CFLAGS_ALL = $(OPT) -g -std=gnu11 $(WARN) -D_GNU_SOURCE $(CFLAGS)
# Debian's static librocksdb.a is built with NDEBUG and avoids the shared
# library's TLS trampolines (measured faster); it needs its codecs linked.
ROCKSDB_LIBS = -Wl,-Bstatic -lrocksdb -Wl,-Bdynamic -lsnappy -llz4 -lzstd -lbz2 -lz -luring -lstdc++ -lm -ldl -lpthread
LIBS = -levent -levent_openssl -lhiredis -lxxhash -lssl -lcrypto $(ROCKSDB_LIBS) -ljemalloc

SRC = $(filter-out src/server.c,$(wildcard src/*.c))
OBJ = $(SRC:.c=.o)
SERVER = src/ringkv-server
# src/types/: the pure merge cores of the data types (one state per file)
TYPES_OBJ = $(patsubst %.c,%.o,$(wildcard src/types/*.c))
PURE = src/util.o src/resp.o src/vclock.o src/record.o src/quorum.o src/merkle.o src/keylock.o \
	src/collkey.o src/collbatch.o $(TYPES_OBJ)

.PHONY: all deps test unit unit-build e2e redis-tests run stop clean fault bench clients web netns netns-long netns-build \
	soak soak-short layering

# Builds run one job per CPU even under a plain `make test` (CI runs that):
# compiles are independent, only the test runs must go one after another. A
# -j given to make is kept instead (its job server is shared).
NPROC := $(shell nproc 2>/dev/null || echo 1)
PAR = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(NPROC))

all: deps
	@$(MAKE) --no-print-directory $(PAR) $(SERVER)

deps:
	@bash deps/install.sh

src/%.o: src/%.c src/*.h src/types/*.h
	$(CC) $(CFLAGS_ALL) -Isrc -c $< -o $@

src/types/%.o: src/types/%.c src/*.h src/types/*.h
	$(CC) $(CFLAGS_ALL) -Isrc -c $< -o $@

$(SERVER): $(OBJ) $(TYPES_OBJ) src/server.o
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS)

# ---- layering ----
# The engine never calls up (docs/architecture.md): what it hands upwards
# goes through a callback its caller passed. So no engine file may include,
# directly or through another header (the compiler's -MM list), a header of
# the layers above it: commands, connections and requests, coordination.
ENGINE = db store clock vclock record merkle ring gossip bus bushandshake busauth busargs busreader \
	hints aae handoff collkey collbatch collstore
ABOVE_ENGINE = client request commands multi info metrics http keylock t_[a-z]* \
	coord read write forward replica clusterops target quorum coll

empty :=
ABOVE_RE = $(subst $(empty) $(empty),|,$(strip $(ABOVE_ENGINE)))

layering:
	@bad=0; for f in $(ENGINE); do \
	  deps=$$($(CC) -MM -D_GNU_SOURCE -Isrc src/$$f.c) || exit 1; \
	  up=$$(echo "$$deps" | tr ' \\' '\n\n' | grep -E '^src/($(ABOVE_RE))\.h$$' | tr '\n' ' '); \
	  if [ -n "$$up" ]; then echo "layering: src/$$f.c includes $$up(above the engine)"; bad=1; fi; \
	done; \
	if [ $$bad = 1 ]; then exit 1; fi; echo "layering: no engine file includes a header above it"

# ---- tests ----
UNIT_TESTS = $(patsubst tests/unit/%.c,tests/unit/%,$(wildcard tests/unit/test_*.c))

# Unit tests cover the pure modules: they link only those (no sockets, no
# RocksDB), plus the server struct config.c writes into.
UNIT_OBJ = src/util.o src/log.o src/resp.o src/vclock.o src/record.o src/config.o src/ring.o \
	src/busauth.o src/quorum.o src/merkle.o src/keylock.o src/collkey.o src/collbatch.o src/geohash.o $(TYPES_OBJ)

tests/unit/test_%: tests/unit/test_%.c tests/unit/stub_server.c $(UNIT_OBJ) src/*.h src/types/*.h \
	$(wildcard tests/unit/*.h)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< tests/unit/stub_server.c $(UNIT_OBJ) -levent -lxxhash -lcrypto -lm -lcriterion

unit-build: $(UNIT_TESTS)

unit: deps
	@$(MAKE) --no-print-directory $(PAR) unit-build
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; ./$$t --jobs 2; done

e2e: all
	@bash tests/run-e2e.sh

redis-tests: all
	@bash redis-tests/run.sh

cluster: all
	@bash tests/run-cluster.sh

# fault injection (tests/fault, root + iptables): fault-short runs in about a
# minute; `make fault` runs the long one (RINGKV_FAULT=short picks the short)
fault-short: all
	@bash tests/fault/run.sh short

fault: all
	@bash tests/fault/run.sh $${RINGKV_FAULT:-long}

# nodes on hosts of their own: network namespaces on a bridge, delay and
# jitter (tests/netns/netdelay, on libnetfilter-queue), loss, partitions
# (tests/netns; root). `make netns` is the short run (in `make test`), `make
# netns-long` adds the 30 s data-center partition and longer lossy runs.
NETDELAY = tests/netns/netdelay

$(NETDELAY): tests/netns/netdelay.c
	$(CC) $(CFLAGS_ALL) -o $@ $< -lnetfilter_queue -lnfnetlink

netns-build: deps $(NETDELAY)

netns: all netns-build
	@bash tests/netns/run.sh short

netns-long: all netns-build
	@bash tests/netns/run.sh long

# client libraries (python3-redis, ioredis, ruby-redis, hiredis), redis-cli
# hints and redis-benchmark against a cluster (tests/clients)
clients: all
	@bash tests/run-clients.sh

# the HTTP status page in headless Chromium, and /metrics (tests/web)
web: all
	@bash tests/run-web.sh

test: layering all unit fuzz-short e2e cluster redis-tests fault-short netns clients web
	@echo "ALL TESTS PASSED"

# ---- fuzzing (libFuzzer, clang) ----
# tests/fuzz/fuzz_*.c, one target per decoder of untrusted bytes, linked
# with the pure modules compiled again with the fuzzer and sanitizers (into
# tests/fuzz/obj/, never the -O2 server objects).
# `make fuzz` runs each FUZZ_SECONDS (60) and merges small new inputs into
# tests/fuzz/corpus/; `make fuzz-short` runs each 10 s (in `make test`).
FUZZ_CC = clang
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -O1 -g -std=gnu11 $(WARN) -D_GNU_SOURCE $(FUZZ_SAN) -Isrc
FUZZ_TARGETS = tests/fuzz/fuzz_resp tests/fuzz/fuzz_record tests/fuzz/fuzz_bus \
	tests/fuzz/fuzz_field tests/fuzz/fuzz_keymeta tests/fuzz/fuzz_counter tests/fuzz/fuzz_hll
FUZZ_OBJ = $(addprefix tests/fuzz/obj/,util.o resp.o vclock.o record.o merkle.o ring.o busreader.o stub_server.o) \
	$(patsubst src/types/%.o,tests/fuzz/obj/types/%.o,$(TYPES_OBJ))
FUZZ_SECONDS ?= 60

.PHONY: fuzz fuzz-short fuzz-build fuzz-build-targets fuzz-deps fuzz-clean
.SECONDARY: $(FUZZ_OBJ)

tests/fuzz/obj/%.o: src/%.c src/*.h
	@mkdir -p tests/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

tests/fuzz/obj/types/%.o: src/types/%.c src/*.h src/types/*.h
	@mkdir -p tests/fuzz/obj/types
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

tests/fuzz/obj/stub_server.o: tests/unit/stub_server.c src/*.h
	@mkdir -p tests/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) src/*.h src/types/*.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) -levent -lhiredis -lxxhash -lm

# fuzz_bus includes src/gossip.c: a function gossip.c starts calling needs a
# stub in tests/fuzz/fuzz_bus.c ("undefined reference" at this link).
tests/fuzz/fuzz_bus: src/gossip.c

fuzz-deps:
	@RINGKV_DEPS_EXTRA="clang libclang-rt-14-dev" bash deps/install.sh

fuzz-build-targets: $(FUZZ_TARGETS)

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(PAR) fuzz-build-targets

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_KEEP=1 bash tests/fuzz/run.sh

fuzz-short: fuzz-build
	@FUZZ_SECONDS=10 FUZZ_KEEP=0 bash tests/fuzz/run.sh

clean: fuzz-clean
fuzz-clean:
	rm -rf tests/fuzz/obj $(FUZZ_TARGETS)

run: all
	@bash utils/create-cluster start

stop:
	@bash utils/create-cluster stop

# ringkv against redis-server with redis-benchmark (not part of `make test`),
# every system preloaded with the keyspace; BENCH_SECONDS=3 for a quick run,
# see utils/bench for the other settings.
bench: all
	@/usr/bin/python3 utils/bench

# a 3-node cluster under mixed load with node restarts for SOAK_MINUTES (30):
# RSS within budget and flat, no fd growth, no unexpected client error, every
# acknowledged write readable at the end (not part of `make test`; outputs in
# soak-out/: CSV, PNG chart, summary). `make soak-short`: a 3-minute check;
# settings in tests/soak/soak.py (make soak SOAK_MINUTES=60).
soak: all
	@SOAK_MINUTES="$(SOAK_MINUTES)" bash tests/soak/run.sh

soak-short: all
	@SOAK_SHORT=1 bash tests/soak/run.sh

clean:
	rm -f src/*.o src/types/*.o $(SERVER) $(UNIT_TESTS) $(NETDELAY)
