# pinhole: plain Makefile. `make` builds build/pinhole; `make check` runs every test layer.
PREFIX ?= /usr/local
DESTDIR ?=
# The binary finds its library as ../share/pinhole/apps beside itself (compiler/front/library.c),
# so bin/ and share/pinhole/ stay under PREFIX; the rest may go elsewhere.
LIBEXECDIR ?= $(PREFIX)/libexec/pinhole
# pinholed finds the library the same way: sbin/../share/pinhole/apps.
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
CC ?= cc
PKGS := libnftnl libmnl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# BuDDy (libbdd-dev) ships no pkg-config file: the exact analysis (compiler/analysis/pktspace.c).
# Linked statically: its shared library pulls in libstdc++, whose start-up alone costs every
# pinhole and pinholed run about 2 MB of RSS (BDD_LIBS=-lbdd links it shared).
BDD_LIBS ?= -l:libbdd.a
# libnftnl linked statically as well: its shared library's start (its relocations, and the
# pages faulted in around them) cost every run about 200 KB of RSS (NFTNL_LIBS=-lnftnl links it
# shared).
NFTNL_LIBS ?= -l:libnftnl.a
PKG_LIBS = $(NFTNL_LIBS) $(shell pkg-config --libs libmnl 2>/dev/null) $(BDD_LIBS) -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral -Wpointer-arith -Wvla -Werror=switch -Werror=switch-enum
# Generated scanner/parser code is not ours to polish: relaxed warnings for it only.
GEN_WARN := -Wall -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter

# One folder per stage of the pipeline (docs/ARCHITECTURE.md); headers are found by name.
SRC_DIRS := compiler compiler/common compiler/front compiler/ir compiler/analysis \
	compiler/backend compiler/backend/nft compiler/backend/iptables compiler/import compiler/cli grammar
INCLUDES := $(addprefix -I,$(SRC_DIRS)) -Ibuild/gen -Iruntime/proto -Iruntime/pinholed
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O2 $(INCLUDES)
CFLAGS ?=
# CPPFLAGS and LDFLAGS too, for a distribution's hardening flags (debian/rules).
CPPFLAGS ?=
LDFLAGS ?=
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
# pinholed's protocol parsers (runtime/proto/, runtime/README.md): pure code without
# dependencies, linked into the unit tests and the fuzz targets (and pinholed).
RUNTIME_PROTO_SRC := $(wildcard runtime/proto/*.c)
RUNTIME_PROTO_OBJS := $(patsubst %.c,build/obj/%.o,$(RUNTIME_PROTO_SRC))
SAN_PROTO_OBJS := $(patsubst build/obj/%,build/asan/obj/%,$(RUNTIME_PROTO_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRCS))
# The fuzz targets (below): set before `test` names them as prerequisites.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(INCLUDES) -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
# pinholed's offer check (pd_check.c, pure code) for fuzz_pd_check, linked into every target.
FUZZ_OBJS := $(patsubst build/obj/%,build/fuzz/obj/%,$(OBJS) $(RUNTIME_PROTO_OBJS) build/obj/runtime/pinholed/pd_check.o)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

# pinholed (runtime/pinholed): its parts that need no parser (headers, checks, tables, netlink
# messages) are unit-tested on their own; the daemon links the compiler and the parsers of
# runtime/proto (RUNTIME_PROTO_SRC).
PD_LIB_SRCS := runtime/pinholed/pd_pkt.c runtime/pinholed/pd_check.c runtime/pinholed/pd_table.c \
	runtime/pinholed/pd_nft.c runtime/pinholed/pd_nl.c runtime/pinholed/pd_reload.c
PD_BIN_SRCS := runtime/pinholed/pd_policy.c runtime/pinholed/pd_swap.c runtime/pinholed/pd_main.c
PD_LIB_OBJS := $(patsubst %.c,build/obj/%.o,$(PD_LIB_SRCS))
PD_SAN_OBJS := $(patsubst %.c,build/asan/obj/%.o,$(PD_LIB_SRCS))
PINHOLED := build/pinholed

.PHONY: all asan man deps demo check test unit golden agree cli checkcmd fuzz fuzz-build golden-update kernel install \
	uninstall deb clean bench bench-deps bench-pinholed

all: build/pinhole $(PINHOLED) man

build/pinholed: $(patsubst %.c,build/obj/%.o,$(PD_BIN_SRCS)) $(RUNTIME_PROTO_OBJS) $(PD_LIB_OBJS) $(OBJS)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/gen/parser.c build/gen/parser.h: grammar/parser.y
	@mkdir -p build/gen
	bison -Wall -Wno-counterexamples -o build/gen/parser.c --header=build/gen/parser.h $<

build/gen/scanner.c build/gen/scanner.h: grammar/scanner.l build/gen/parser.h
	@mkdir -p build/gen
	flex -o build/gen/scanner.c --header-file=build/gen/scanner.h $<

build/obj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(WARN) $(DEPFLAGS) $(PKG_CFLAGS) -DPINHOLE_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build/obj/gen/%.o: build/gen/%.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(GEN_WARN) $(DEPFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build/pinhole: build/obj/compiler/cli/main.o $(OBJS)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

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

build/tests/%: tests/unit/%.c tests/unit/unit.h $(SAN_OBJS) $(SAN_PROTO_OBJS) $(PD_SAN_OBJS)
	@mkdir -p build/tests
	$(CC) $(BASE_CFLAGS) $(WARN) -Wno-missing-prototypes $(DEPFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -Itests/unit \
		-o $@ $< $(SAN_OBJS) $(SAN_PROTO_OBJS) $(PD_SAN_OBJS) $(CMOCKA_LIBS) $(PKG_LIBS)

# The agree layer's printer: pinhole's netlink objects in nft --debug=netlink's format.
AGREE_BIN := build/agree/nl_print
$(AGREE_BIN): tests/agree/nl_print.c $(SAN_OBJS)
	@mkdir -p build/agree
	$(CC) $(BASE_CFLAGS) $(WARN) $(DEPFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) \
		-o $@ $< $(SAN_OBJS) $(PKG_LIBS)

-include $(shell find build -path build/bench -prune -o -name '*.d' -type f -print 2>/dev/null)

# Installs the Debian packages the build and the tests need (as root; no-op when present).
deps:
	@tests/install-deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== build/pinhole compile examples/workstation.pin"
	@build/pinhole compile examples/workstation.pin

check: deps
	@$(MAKE) --no-print-directory test

test: all asan build/pinhole-faults $(UNIT_BINS) $(AGREE_BIN) $(FUZZ_BINS)
	@tests/run-all.sh $(UNIT_BINS)

unit: asan $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

golden: all asan
	@tests/golden/run.sh

agree: all asan $(AGREE_BIN)
	@tests/agree/run.sh

cli: all asan build/pinhole-faults
	@tests/cli/run.sh

# `check` is the whole suite already: this layer (tests/check/run.sh) is `make checkcmd`.
checkcmd: all asan
	@tests/check/run.sh

golden-update: all asan
	@tests/golden/run.sh --update

kernel: all build/pinhole-faults
	@tests/kernel/run.sh

# Benchmarks of issue 9 against ferm and Shorewall (as root; about 10 minutes; not part of
# `check`): writes its table into README.md. QUICK=1: a short smoke run, README.md untouched.
bench: all
	@QUICK=$(QUICK) tests/perf/bench.sh

# pinholed alone: control message to set element latency, messages/s, RSS (root).
bench-pinholed: all
	@/usr/bin/python3 tests/perf/bench_pinholed.py

# What the benchmark installs when missing (iperf3, ethtool, time, ...): nothing else.
bench-deps:
	@tests/perf/bench.sh --deps

# Coverage-guided fuzzing (clang's libFuzzer): one target per tests/fuzz/fuzz_*.c, linked
# against the whole compiler built once with coverage instrumentation. `make fuzz` runs each
# for FUZZ_SECONDS (tests/fuzz/run.sh); `make test` runs them for FUZZ_SECONDS in all.

build/fuzz/obj/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) $(DEPFLAGS) $(PKG_CFLAGS) -DPINHOLE_VERSION='"$(VERSION)"' -c -o $@ $<

build/fuzz/obj/gen/%.o: build/gen/%.c | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(GEN_WARN) $(DEPFLAGS) -c -o $@ $<

# The instrumented objects are built for the pattern rule below: keep them between runs.
.SECONDARY: $(FUZZ_OBJS)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) $(PKG_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

# The import targets share their body.
$(filter build/fuzz/fuzz_import_%,$(FUZZ_BINS)): tests/fuzz/fuzz_import.h

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh --each $(FUZZ_SECONDS)

# Man pages: scdoc sources in man/, rendered to roff in build/man/.
MAN_PAGES := build/man/pinhole.8 build/man/pinhole.pin.5 build/man/pinholed.8
man: $(MAN_PAGES)

build/man/%: man/%.scd
	@command -v scdoc >/dev/null || { echo "pinhole: the man pages need scdoc (make deps installs it)" >&2; exit 1; }
	@mkdir -p build/man
	scdoc < $< > $@.tmp && mv $@.tmp $@

# The boot script and unit name the installed paths; rendered at install time.
SUBST = sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PREFIX)/share/pinhole/apps \
		$(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 build/pinhole $(DESTDIR)$(PREFIX)/bin/pinhole
	install -m 0755 build/pinholed $(DESTDIR)$(SBINDIR)/pinholed
	install -m 0644 stdlib-apps/*.pin $(DESTDIR)$(PREFIX)/share/pinhole/apps/
	install -m 0644 build/man/pinhole.8 $(DESTDIR)$(MANDIR)/man8/pinhole.8
	install -m 0644 build/man/pinholed.8 $(DESTDIR)$(MANDIR)/man8/pinholed.8
	install -m 0644 build/man/pinhole.pin.5 $(DESTDIR)$(MANDIR)/man5/pinhole.pin.5
	$(SUBST) dist/pinhole-boot.in > $(DESTDIR)$(LIBEXECDIR)/pinhole-boot
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/pinhole-boot
	$(SUBST) dist/pinhole.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/pinhole.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/pinhole.service
	$(SUBST) dist/pinholed.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/pinholed.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/pinholed.service
	install -m 0644 dist/pinhole.bash-completion $(DESTDIR)$(BASHCOMPDIR)/pinhole
	install -m 0644 dist/pinholed.bash-completion $(DESTDIR)$(BASHCOMPDIR)/pinholed

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pinhole $(DESTDIR)$(SBINDIR)/pinholed
	rm -rf $(DESTDIR)$(PREFIX)/share/pinhole
	rm -f $(DESTDIR)$(MANDIR)/man8/pinhole.8 $(DESTDIR)$(MANDIR)/man8/pinholed.8 \
		$(DESTDIR)$(MANDIR)/man5/pinhole.pin.5
	rm -f $(DESTDIR)$(LIBEXECDIR)/pinhole-boot
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/pinhole.service $(DESTDIR)$(SYSTEMDUNITDIR)/pinholed.service
	rm -f $(DESTDIR)$(BASHCOMPDIR)/pinhole $(DESTDIR)$(BASHCOMPDIR)/pinholed

# A Debian package (debian/), built in a copy of the tree under build/deb so that neither
# dpkg-buildpackage's clean nor its output (written to the parent folder) touch this one.
# Needs dpkg-dev and debhelper (not installed by `make deps`).
deb:
	rm -rf build/deb
	mkdir -p build/deb/pinhole-$(VERSION)
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C build/deb/pinhole-$(VERSION)
	cd build/deb/pinhole-$(VERSION) && dpkg-buildpackage -us -uc -b
	dpkg -c build/deb/pinhole_$(VERSION)_*.deb
	tests/deb/check.sh

clean:
	rm -rf build
