# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
#   make            build build/tcpconnect (and the other tools)
#   make test       build, then run the unit and end-to-end tests (root)
#   make vmtest     the tests under Debian's 5.10, 6.1 and 6.12 kernels in QEMU, per attach mode (root; scripts/vmtest)
#   make bench      the cost benchmark on this kernel (root; bench/); make vmtest-bench: its fentry ratios in Debian's 6.12 under QEMU
#   make deps       install the Debian packages needed to build and test
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel
#   STATIC=1 ARCH=arm64 static (build/static/) and cross arm64 (build/arm64[-static]/) builds; make dist, static-check, vmtest-arm64, vmlinux-arm64
#   make install    PREFIX=/usr/local DESTDIR= (UNITDIR= BASHCOMPDIR=)
#   make deb        build/deb/tcptools_VERSION_ARCH.deb (ARCH=arm64 too); make deb-test
#   make format     clang-format every C file
#   make lint       cppcheck and clang-tidy on src/
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 20)
#   SANITIZE=1      build (and test) with AddressSanitizer and UBSan
#   V=1             show the commands

TOOLS := tcpconnect tcpaccept tcptracer
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# ARCH (x86 or arm64; x86_64 and aarch64 are accepted) may come from the
# environment or the command line, as may CC, CLANG, BPFTOOL and PKG_CONFIG.
ARCH ?= $(HOST_ARCH)
override ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(ARCH)))
CROSS_arm64 := aarch64-linux-gnu-
MULTIARCH_arm64 := aarch64-linux-gnu
MULTIARCH_x86 := x86_64-linux-gnu
ifneq ($(ARCH),$(HOST_ARCH))
CROSS := $(CROSS_$(ARCH))
endif
# make's built-in CC is cc: only a CC the user chose is kept.
ifeq ($(origin CC),default)
CC := $(CROSS)gcc
endif
ifeq ($(SANITIZE),1)
OUT := build/san
else ifneq ($(ARCH),$(HOST_ARCH))
OUT := build/$(ARCH)$(if $(filter 1,$(STATIC)),-static)
else ifeq ($(STATIC),1)
OUT := build/static
else
OUT := build
endif

CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3
PREFIX ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# The BPF side's kernel types, one header per architecture: vmlinux/vmlinux.h
# (x86, `make vmlinux`), vmlinux/<arch>/vmlinux.h (`make vmlinux-<arch>`).
VMLINUX_DIR_x86 := vmlinux
VMLINUX_DIR := $(or $(VMLINUX_DIR_$(ARCH)),vmlinux/$(ARCH))
# Targets that build nothing for ARCH need no header.
NOBUILD_GOALS := clean deps deps-arm64 format vmlinux vmlinux-% static-check vmtest-arm64 deb \
	deb-test
ifneq ($(filter-out $(NOBUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(wildcard $(VMLINUX_DIR)/vmlinux.h),)
$(error ARCH=$(ARCH): no BPF header $(VMLINUX_DIR)/vmlinux.h (supported: x86, arm64))
endif
endif
ifneq ($(ARCH),$(HOST_ARCH))
ifneq ($(filter test vmtest check lint fuzz bench bench-tools vmtest-bench,$(MAKECMDGOALS)),)
$(error ARCH=$(ARCH) is a cross build: only building and make dist (make vmtest-arm64 tests arm64))
endif
# Debian multiarch: the target's .pc files (libbpf-dev:arm64 and so on).
PKG_CONFIG_ENV := PKG_CONFIG_LIBDIR=/usr/lib/$(MULTIARCH_$(ARCH))/pkgconfig
endif

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG_ENV) $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
ifeq ($(STATIC),1)
LIBBPF_LIBS := $(shell $(PKG_CONFIG_ENV) $(PKG_CONFIG) --static --libs libbpf 2>/dev/null)
override LDFLAGS += -static
else
LIBBPF_LIBS := $(shell $(PKG_CONFIG_ENV) $(PKG_CONFIG) --libs libbpf 2>/dev/null)
endif

CFLAGS ?= -O2 -g
override CFLAGS += -Wall -Wextra -Werror -std=gnu11 -Iinclude -Isrc -I$(OUT) $(LIBBPF_CFLAGS)
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
override CFLAGS += $(SAN)
override LDFLAGS += $(SAN)
endif
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Isrc
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -I$(VMLINUX_DIR) $(LIBBPF_CFLAGS)
DEPFLAGS = -MMD -MP -MF $@.d

LIB_SRCS := src/tool_main.c src/descriptions.c src/options.c src/messages.c src/preflight.c \
	src/mounts.c src/loader.c src/diagnose.c src/session.c src/waiters.c src/kernel.c \
	src/format.c src/dns.c
LIB_OBJS := $(LIB_SRCS:src/%.c=$(OUT)/%.o)
UNITS := unit dns_unit
# every C file of ours, formatted by .clang-format (make format; make lint checks)
FORMAT_FILES = $(wildcard include/*.h src/*.c src/*.h src/bpf/*.c src/bpf/*.h tests/*.c \
	tests/*.h bench/*.c)
# A unit binary: tests/NAME.c, the harness tests/check.c (and the library);
# unit also has one tests/unit_*.c per subject.
UNIT_PARTS := $(patsubst tests/%.c,$(OUT)/%.o,$(wildcard tests/unit_*.c))
UNIT_OBJS := $(UNITS:%=$(OUT)/%.o) $(OUT)/check.o $(UNIT_PARTS)
FUZZERS := fuzz_dns fuzz_options

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all test vmtest check deps deps-arm64 vmlinux vmlinux-arm64 dist static-check vmtest-arm64 install format lint fuzz clean FORCE bench bench-tools vmtest-bench deb deb-test
.DELETE_ON_ERROR:
.SECONDARY:

all: $(TOOLS:%=$(OUT)/%)

$(OUT):
	$(Q)mkdir -p $@

# Everything compiled follows the flags it was built with (SANITIZE=1 or not,
# another CC or CLANG): a change of them rebuilds what they built.
$(OUT)/.flags: FORCE | $(OUT)
	$(Q)echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@
$(OUT)/.bpf-flags: FORCE | $(OUT)
	$(Q)echo '$(CLANG) $(BPF_CFLAGS)' | cmp -s - $@ || echo '$(CLANG) $(BPF_CFLAGS)' > $@

$(OUT)/%.bpf.o: src/bpf/%.bpf.c $(OUT)/.bpf-flags | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# A tool's loader needs its skeleton before it compiles.
$(TOOLS:%=$(OUT)/%.o): $(OUT)/%.o: $(OUT)/%.skel.h

$(OUT)/%.o: src/%.c $(OUT)/.flags | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(TOOLS:%=$(OUT)/%) $(UNITS:%=$(OUT)/%): $(OUT)/%: $(OUT)/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) $(LIBBPF_LIBS) -o $@

$(UNITS:%=$(OUT)/%): $(OUT)/check.o
$(OUT)/unit: $(UNIT_PARTS)

$(UNIT_OBJS): $(OUT)/%.o: tests/%.c $(OUT)/.flags | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# libFuzzer targets: clang only, always with ASan and UBSan
$(OUT)/fuzz_dns: tests/fuzz_dns.c src/dns.c src/dns.h | $(OUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz_dns.c src/dns.c -o $@

$(OUT)/fuzz_options: tests/fuzz_options.c src/options.c src/descriptions.c src/format.c \
		src/messages.c src/options.h src/descriptions.h src/format.h src/messages.h | $(OUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(LIBBPF_CFLAGS) tests/fuzz_options.c src/options.c \
		src/descriptions.c src/format.c src/messages.c -o $@

test: all $(UNITS:%=$(OUT)/%)
	$(Q)PYTHON=$(PYTHON) UNITS="$(UNITS)" TCPT_BUILD=$(abspath $(OUT)) \
		TCPT_SANITIZE=$(SANITIZE) tests/run

# The same tests under other kernels, booted in QEMU once each, every attach
# mode in turn: the whole suite in some modes, a subset in the others
# (scripts/vmtest says how; KERNELS= VMTEST_MODES= VMTEST_FULL_MODES=
# VMTEST_SUBSET= VMTEST_JOBS=).
vmtest: all $(UNITS:%=$(OUT)/%)
	$(Q)scripts/deps.sh vmtest
	$(Q)PYTHON=$(PYTHON) TCPT_BUILD=$(abspath $(OUT)) TCPT_SANITIZE=$(SANITIZE) \
		scripts/vmtest

# Everything CI runs: static checks, the tests, the fuzzers briefly, and the
# tests again built with ASan and UBSan.
check: lint test fuzz
	$(Q)$(MAKE) --no-print-directory test SANITIZE=1

fuzz: $(FUZZERS:%=$(OUT)/%)
	$(Q)mkdir -p $(OUT)/corpus/dns $(OUT)/corpus/options
	$(Q)for f in dns:1024 options:512; do \
		name=$${f%%:*}; len=$${f##*:}; log=$(OUT)/fuzz_$$name.log; \
		printf '  %-8s %s\n' FUZZ "fuzz_$$name, $(FUZZ_SECONDS) s"; \
		$(OUT)/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -max_len=$$len \
			-artifact_prefix=$(OUT)/fuzz_$$name- $(OUT)/corpus/$$name \
			$$(test -d tests/fuzz_corpus/$$name && echo tests/fuzz_corpus/$$name) \
			> $$log 2>&1 || { tail -40 $$log; exit 1; }; \
		grep -E '^Done [0-9]+ runs' $$log; \
	done

lint: all
	$(call msg,FORMAT,$(words $(FORMAT_FILES)) files)
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES)
	$(call msg,CPPCHECK,src)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Iinclude -Isrc -I$(OUT) src/*.c
	$(call msg,TIDY,src)
	$(Q)clang-tidy --quiet src/*.c -- -std=gnu11 -Iinclude -Isrc -I$(OUT) \
		$(LIBBPF_CFLAGS) 2>&1 | { ! grep -E 'warning:|error:'; }

deps:
	$(Q)scripts/deps.sh

deps-arm64:
	$(Q)scripts/deps.sh arm64

vmlinux:
	$(call msg,GEN,vmlinux/vmlinux.h)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	$(Q)mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

# vmlinux/arm64/vmlinux.h from the newest Debian 6.1 arm64 kernel package (the
# oldest kernel tested there; CO-RE adapts to newer ones), downloaded with
# apt-get, never installed: scripts/deps.sh arm64 first (dpkg architecture).
VMLINUX_DEB_arm64 = $(shell apt-cache pkgnames linux-image-6.1.0- 2>/dev/null | \
	grep -E '^linux-image-6\.1\.0-[0-9]+-arm64-unsigned$$' | sort -V | tail -1)
vmlinux-arm64:
	$(call msg,GEN,vmlinux/arm64/vmlinux.h)
	$(Q)pkg='$(VMLINUX_DEB_arm64)'; test -n "$$pkg" || { echo "no linux-image-6.1.0-*-arm64-unsigned known to apt (scripts/deps.sh arm64)" >&2; exit 1; }; \
		BPFTOOL='$(BPFTOOL)' scripts/vmlinux-from-deb "$$pkg" vmlinux/arm64/vmlinux.h

# make dist [ARCH=arm64]: build/dist/tcptools-VERSION-ARCH.tar.gz of the
# static tools (debug info stripped), man pages, README.md and licences, and
# build/dist/SHA256SUMS of every tarball there. VERSION is what --version prints.
VERSION := $(shell sed -n 's/^\#define SUITE_VERSION "\(.*\)"$$/\1/p' src/options.h)
DIST_ARCH_x86 := x86_64
DIST_ARCH_arm64 := arm64
DIST := tcptools-$(VERSION)-$(or $(DIST_ARCH_$(ARCH)),$(ARCH))
STRIP ?= $(CROSS)strip
ifeq ($(STATIC),1)
dist: all
	$(if $(filter 1,$(SANITIZE)),$(error make dist: not with SANITIZE=1))
	$(call msg,DIST,build/dist/$(DIST).tar.gz)
	$(Q)rm -rf build/dist/$(DIST) && mkdir -p build/dist/$(DIST)/man/man8
	$(Q)$(STRIP) --strip-debug -o build/dist/$(DIST)/tcpconnect $(OUT)/tcpconnect
	$(Q)$(STRIP) --strip-debug -o build/dist/$(DIST)/tcpaccept $(OUT)/tcpaccept
	$(Q)$(STRIP) --strip-debug -o build/dist/$(DIST)/tcptracer $(OUT)/tcptracer
	$(Q)cp $(TOOLS:%=man/man8/%.8) build/dist/$(DIST)/man/man8/
	$(Q)cp -r README.md LICENSE LICENSES build/dist/$(DIST)/
	$(Q)tar -C build/dist --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$$(git log -1 --format=%ct 2>/dev/null || echo 0) -cf - $(DIST) | \
		gzip -9n > build/dist/$(DIST).tar.gz
	$(Q)rm -rf build/dist/$(DIST)
	$(Q)cd build/dist && sha256sum tcptools-*.tar.gz > SHA256SUMS
else
dist:
	$(Q)$(MAKE) --no-print-directory dist STATIC=1
endif

# make static-check: the x86 static tools run with no shared library at all
# (scripts/static-check says how; root).
static-check:
	$(Q)$(MAKE) --no-print-directory STATIC=1 ARCH=$(HOST_ARCH) all
	$(Q)scripts/static-check $(abspath build/static)

# make vmtest-arm64: the static arm64 tools under Debian's arm64 5.10, 6.1 and
# 6.12 kernels in QEMU (TCG), each attach mode, real traffic (scripts/vmtest-arm64; root).
vmtest-arm64:
	$(Q)scripts/deps.sh arm64
	$(Q)$(MAKE) --no-print-directory STATIC=1 ARCH=arm64 all
	$(Q)TCPT_BUILD=$(abspath build/arm64-static) scripts/vmtest-arm64

# The tools, their man pages, the bash completion (one file, under each
# tool's name) and the systemd unit template (not enabled).
install: all
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR)
	$(Q)install -m 0755 $(TOOLS:%=$(OUT)/%) $(DESTDIR)$(PREFIX)/sbin/
	$(Q)install -m 0644 $(TOOLS:%=man/man8/%.8) $(DESTDIR)$(PREFIX)/share/man/man8/
	$(Q)install -m 0644 completion/tcptools.bash $(DESTDIR)$(BASHCOMPDIR)/tcpconnect
	$(Q)ln -sf tcpconnect $(DESTDIR)$(BASHCOMPDIR)/tcpaccept
	$(Q)ln -sf tcpconnect $(DESTDIR)$(BASHCOMPDIR)/tcptracer
	$(Q)sed 's|@SBINDIR@|$(PREFIX)/sbin|' systemd/tcptools@.service > \
		$(DESTDIR)$(UNITDIR)/tcptools@.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/tcptools@.service

# make deb [ARCH=arm64]: the Debian package, built by dpkg-buildpackage from
# debian/ and checked by lintian (scripts/deb); make deb-test installs it in
# a fresh Debian 12 root, checks it and purges it (scripts/deb-test).
DEB_ARCH_x86 := amd64
DEB_ARCH_arm64 := arm64
DEB := build/deb/tcptools_$(VERSION)_$(DEB_ARCH_$(ARCH)).deb
deb:
	$(Q)scripts/deps.sh deb $(if $(CROSS),arm64)
	$(Q)scripts/deb $(DEB_ARCH_$(ARCH)) $(VERSION)

deb-test:
	$(Q)scripts/deps.sh deb
	$(Q)test -f $(DEB) || { echo "no $(DEB): make deb first" >&2; exit 1; }
	$(Q)scripts/deb-test $(DEB)

format:
	$(Q)clang-format -i $(FORMAT_FILES)

clean:
	$(Q)rm -rf build

# make bench (root): the connection-storm benchmark (bench/run says what it
# measures, bench/report.py each column); BENCH_SECONDS=3 BENCH_PAIRS=5
# BENCH_ONLY=regex PEERS=1 BENCH_PIN=1 (bench/floor: empty programs on the
# tools' hooks, the floor of their BPF time); CC's <sys/syscall.h> gives it
# the syscall numbers
bench: bench-tools
	$(Q)CC='$(CC)' $(PYTHON) bench/run
	$(Q)$(PYTHON) bench/sysexit

# make vmtest-bench (root): make bench's cost ratios in fentry mode, which
# this machine's kernel refuses, inside Debian's 6.12 under QEMU (two CPUs):
# each tool and option against the floor, the tool without the option and
# the installed peers (PEERS: apt-get install libbpf-tools), on the IPv4
# cycle and refused storms. Under TCG only the ratios mean anything. The
# report: build/vmtest-bench/<kernel>/results.md (KERNELS= for others).
vmtest-bench: bench-tools $(UNITS:%=$(OUT)/%)
	$(Q)scripts/deps.sh vmtest
	$(Q)KERNELS="$${KERNELS:-6.12}" VMTEST_MODES=none VMTEST_SMP=2 \
		VMTEST_OUT=$(abspath $(OUT))/vmtest-bench TCPT_BUILD=$(abspath $(OUT)) \
		VMTEST_GUEST_CMD='BENCH_ONLY="^v4 (cycle|refused) .* file$$" PEERS=1 \
		BENCH_PAIRS=$${BENCH_PAIRS:-3} BENCH_IDLE_SECONDS=0 \
		BENCH_RESULTS=$$VMTEST_GUEST_OUT/results.md $$PYTHON bench/run' scripts/vmtest

bench-tools: all
	$(call msg,CC,$(OUT)/storm)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) bench/storm.c -o $(OUT)/storm
	$(call msg,BPF,$(OUT)/floor.bpf.o)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c bench/floor.bpf.c -o $(OUT)/floor.bpf.o
	$(call msg,BPF,$(OUT)/parts.bpf.o)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c bench/parts.bpf.c -o $(OUT)/parts.bpf.o
	$(call msg,CC,$(OUT)/floor)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) bench/floor.c $(LIBBPF_LIBS) -o $(OUT)/floor
	$(call msg,CC,$(OUT)/syscalls)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) bench/syscalls.c -o $(OUT)/syscalls

-include $(wildcard $(OUT)/*.d)
