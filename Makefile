# pinhole: plain Makefile. `make` builds build/pinhole; `make check` runs every test layer.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := libnftnl libmnl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral -Wpointer-arith -Wvla -Werror=switch-enum
# Generated scanner/parser code is not ours to polish: relaxed warnings for it only.
GEN_WARN := -Wall -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter

# One folder per stage of the pipeline (docs/ARCHITECTURE.md); headers are found by name.
SRC_DIRS := compiler compiler/common compiler/front compiler/ir compiler/analysis \
	compiler/backend compiler/backend/nft compiler/backend/iptables compiler/cli grammar
INCLUDES := $(addprefix -I,$(SRC_DIRS)) -Ibuild/gen
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O2 $(INCLUDES)
CFLAGS ?=
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -O1
DEPFLAGS = -MMD -MP

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# The test-only fault injector is no part of the shipping binary: only build/pinhole-faults has it.
FAULT_SRCS := compiler/cli/fault_inject.c
SRCS := $(filter-out compiler/cli/main.c $(FAULT_SRCS),$(wildcard $(addsuffix /*.c,$(SRC_DIRS))))
GEN_SRCS := build/gen/parser.c build/gen/scanner.c
GEN_HDRS := build/gen/parser.h build/gen/scanner.h
OBJS := $(patsubst %.c,build/obj/%.o,$(SRCS)) build/obj/gen/parser.o build/obj/gen/scanner.o
SAN_OBJS := $(patsubst build/obj/%,build/asan/obj/%,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRCS))

.PHONY: all asan deps demo check test unit golden agree cli fuzz golden-update kernel install uninstall clean

all: build/pinhole

build/gen/parser.c build/gen/parser.h: grammar/parser.y
	@mkdir -p build/gen
	bison -Wall -Wno-counterexamples -o build/gen/parser.c --header=build/gen/parser.h $<

build/gen/scanner.c build/gen/scanner.h: grammar/scanner.l build/gen/parser.h
	@mkdir -p build/gen
	flex -o build/gen/scanner.c --header-file=build/gen/scanner.h $<

build/obj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(WARN) $(DEPFLAGS) $(PKG_CFLAGS) -DPINHOLE_VERSION='"$(VERSION)"' $(CFLAGS) -c -o $@ $<

build/obj/gen/%.o: build/gen/%.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(GEN_WARN) $(DEPFLAGS) $(CFLAGS) -c -o $@ $<

build/pinhole: build/obj/compiler/cli/main.o $(OBJS)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# build/pinhole with the fault injector (fault_inject.h) for tests/kernel: cmd_apply.c is
# compiled again with it switched on; nothing else differs.
FAULT_OBJS := $(filter-out build/obj/compiler/cli/cmd_apply.o,$(OBJS)) \
	build/faults/obj/compiler/cli/cmd_apply.o $(patsubst %.c,build/faults/obj/%.o,$(FAULT_SRCS))

build/faults/obj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(WARN) $(DEPFLAGS) $(PKG_CFLAGS) -DPINHOLE_VERSION='"$(VERSION)"' -DPINHOLE_FAULT_INJECTION \
		$(CFLAGS) -c -o $@ $<

build/pinhole-faults: build/obj/compiler/cli/main.o $(FAULT_OBJS)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# Sanitizer build (ASan + UBSan): the unit and golden suites run against it.
build/asan/obj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(WARN) $(DEPFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -DPINHOLE_VERSION='"$(VERSION)"' -c -o $@ $<

build/asan/obj/gen/%.o: build/gen/%.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(GEN_WARN) $(DEPFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/pinhole-asan: build/asan/obj/compiler/cli/main.o $(SAN_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

asan: build/pinhole-asan

build/tests/%: tests/unit/%.c tests/unit/unit.h $(SAN_OBJS)
	@mkdir -p build/tests
	$(CC) $(BASE_CFLAGS) $(WARN) -Wno-missing-prototypes $(DEPFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -Itests/unit \
		-o $@ $< $(SAN_OBJS) $(CMOCKA_LIBS) $(PKG_LIBS)

# The agree layer's printer: pinhole's netlink objects in nft --debug=netlink's format.
AGREE_BIN := build/agree/nl_print
$(AGREE_BIN): tests/agree/nl_print.c $(SAN_OBJS)
	@mkdir -p build/agree
	$(CC) $(BASE_CFLAGS) $(WARN) $(DEPFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) \
		-o $@ $< $(SAN_OBJS) $(PKG_LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# Installs the Debian packages the build and the tests need (as root; no-op when present).
deps:
	@tests/install-deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== build/pinhole compile examples/workstation.pin"
	@build/pinhole compile examples/workstation.pin

check: deps
	@$(MAKE) --no-print-directory test

test: all asan build/pinhole-faults $(UNIT_BINS) $(AGREE_BIN)
	@tests/run-all.sh $(UNIT_BINS)

unit: asan $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

golden: all asan
	@tests/golden/run.sh

agree: all asan $(AGREE_BIN)
	@tests/agree/run.sh

cli: all asan build/pinhole-faults
	@tests/cli/run.sh

golden-update: all asan
	@tests/golden/run.sh --update

kernel: all build/pinhole-faults
	@tests/kernel/run.sh

# Coverage-guided fuzzing of the whole front end (clang's libFuzzer; not part of `check`).
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(SRCS) $(GEN_SRCS)
build/fuzz_policy: tests/fuzz/fuzz_policy.c $(FUZZ_SRCS) $(GEN_HDRS)
	clang -std=c11 -D_GNU_SOURCE -g -O1 $(INCLUDES) \
		-fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_policy.c $(FUZZ_SRCS) $(PKG_LIBS)

fuzz: build/fuzz_policy
	@mkdir -p build/fuzz-corpus
	build/fuzz_policy -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz-corpus tests/fuzz/corpus

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/pinhole/apps
	install -m 0755 build/pinhole $(DESTDIR)$(PREFIX)/bin/pinhole
	install -m 0644 stdlib-apps/*.pin $(DESTDIR)$(PREFIX)/share/pinhole/apps/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pinhole
	rm -rf $(DESTDIR)$(PREFIX)/share/pinhole

clean:
	rm -rf build
