# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
#   make            build build/tcpconnect (and the other tools)
#   make test       build, then run the unit and end-to-end tests (root)
#   make deps       install the Debian packages needed to build and test
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every C file
#   V=1             show the commands

TOOLS := tcpconnect tcpaccept tcptracer
OUT := build

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
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -Ivmlinux $(LIBBPF_CFLAGS)
DEPFLAGS = -MMD -MP -MF $@.d

LIB_SRCS := src/options.c src/format.c src/session.c src/tools.c src/tool_main.c src/dns.c
LIB_OBJS := $(LIB_SRCS:src/%.c=$(OUT)/%.o)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all test unit e2e deps vmlinux install format clean bench
.DELETE_ON_ERROR:
.SECONDARY:

all: $(TOOLS:%=$(OUT)/%)

$(OUT):
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: src/bpf/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# A tool's loader needs its skeleton before it compiles.
$(TOOLS:%=$(OUT)/%.o): $(OUT)/%.o: $(OUT)/%.skel.h

$(OUT)/%.o: src/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/%: $(OUT)/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) -o $@

$(OUT)/unit.o: tests/unit.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/unit: $(OUT)/unit.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) -o $@

test: all $(OUT)/unit
	$(Q)PYTHON=$(PYTHON) tests/run

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
	$(Q)clang-format -i include/*.h src/*.c src/*.h src/bpf/*.c src/bpf/*.h tests/*.c

clean:
	$(Q)rm -rf $(OUT)

# make bench (root): the connection-storm benchmark (bench/run says what it
# measures); BENCH_SECONDS=3 BENCH_PAIRS=5 BENCH_ONLY=regex PEERS=1
bench: all
	$(call msg,CC,$(OUT)/storm)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) bench/storm.c -o $(OUT)/storm
	$(Q)$(PYTHON) bench/run

-include $(wildcard $(OUT)/*.d)
