# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
#   make            build build/tcpconnect (and the other tools)
#   make test       build, then run the unit and end-to-end tests (root)
#   make vmtest     the tests under Debian's 6.1 and 6.12 kernels in QEMU, per attach mode (root; scripts/vmtest)
#   make deps       install the Debian packages needed to build and test
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every C file
#   make lint       cppcheck and clang-tidy on src/
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 20)
#   SANITIZE=1      build (and test) with AddressSanitizer and UBSan
#   V=1             show the commands

TOOLS := tcpconnect tcpaccept tcptracer
ifeq ($(SANITIZE),1)
OUT := build/san
else
OUT := build
endif

CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3
PREFIX ?= /usr/local
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null)

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
	-Iinclude -Ivmlinux $(LIBBPF_CFLAGS)
DEPFLAGS = -MMD -MP -MF $@.d

LIB_SRCS := src/options.c src/format.c src/session.c src/tools.c src/tool_main.c src/dns.c
LIB_OBJS := $(LIB_SRCS:src/%.c=$(OUT)/%.o)
UNITS := unit dns_unit
FUZZERS := fuzz_dns fuzz_options

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all test vmtest check deps vmlinux install format lint fuzz clean FORCE bench
.DELETE_ON_ERROR:
.SECONDARY:

all: $(TOOLS:%=$(OUT)/%)

$(OUT):
	$(Q)mkdir -p $@

# Everything compiled follows the flags it was built with (SANITIZE=1 or not).
$(OUT)/.flags: FORCE | $(OUT)
	$(Q)echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@

$(OUT)/%.bpf.o: src/bpf/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# A tool's loader needs its skeleton before it compiles.
$(TOOLS:%=$(OUT)/%.o): $(OUT)/%.o: $(OUT)/%.skel.h

$(OUT)/%.o: src/%.c $(OUT)/.flags | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(TOOLS:%=$(OUT)/%) $(UNITS:%=$(OUT)/%): $(OUT)/%: $(OUT)/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) $(LIBBPF_LIBS) -o $@

$(UNITS:%=$(OUT)/%.o): $(OUT)/%.o: tests/%.c $(OUT)/.flags | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# libFuzzer targets: clang only, always with ASan and UBSan
$(OUT)/fuzz_dns: tests/fuzz_dns.c src/dns.c src/dns.h | $(OUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz_dns.c src/dns.c -o $@

$(OUT)/fuzz_options: tests/fuzz_options.c src/options.c src/tools.c src/format.c \
		src/options.h src/tools.h src/format.h | $(OUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(LIBBPF_CFLAGS) tests/fuzz_options.c src/options.c \
		src/tools.c src/format.c -o $@

test: all $(UNITS:%=$(OUT)/%)
	$(Q)PYTHON=$(PYTHON) UNITS="$(UNITS)" TCPT_BUILD=$(abspath $(OUT)) \
		TCPT_SANITIZE=$(SANITIZE) tests/run

# The same tests under other kernels, booted in QEMU once each, every attach
# mode in turn (scripts/vmtest says how; KERNELS= VMTEST_MODES= VMTEST_JOBS=).
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
	$(call msg,CPPCHECK,src)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Iinclude -Isrc -I$(OUT) src/*.c
	$(call msg,TIDY,src)
	$(Q)clang-tidy --quiet src/*.c -- -std=gnu11 -Iinclude -Isrc -I$(OUT) \
		$(LIBBPF_CFLAGS) 2>&1 | { ! grep -E 'warning:|error:'; }

deps:
	$(Q)scripts/deps.sh

vmlinux:
	$(call msg,GEN,vmlinux/vmlinux.h)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	$(Q)mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

install: all
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	$(Q)install -m 0755 $(TOOLS:%=$(OUT)/%) $(DESTDIR)$(PREFIX)/sbin/
	$(Q)install -m 0644 $(TOOLS:%=man/man8/%.8) $(DESTDIR)$(PREFIX)/share/man/man8/

format:
	$(Q)clang-format -i include/*.h src/*.c src/*.h src/bpf/*.c src/bpf/*.h tests/*.c \
		bench/*.c

clean:
	$(Q)rm -rf build

# make bench (root): the connection-storm benchmark (bench/run says what it
# measures); BENCH_SECONDS=3 BENCH_PAIRS=5 BENCH_ONLY=regex PEERS=1
bench: all
	$(call msg,CC,$(OUT)/storm)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) bench/storm.c -o $(OUT)/storm
	$(Q)$(PYTHON) bench/run

-include $(wildcard $(OUT)/*.d)
