# macvguard — build, run and test.
#   make            build build/macvguard (needs the build packages; see scripts/deps.sh)
#   sudo make run   install what is missing, build, run the agent in the best mode the kernel allows
#   sudo make test  install what is missing, build, run every test suite (host + VM kernels)
#   make bench      speed figures (see docs/performance.md)
#   make vmlinux    regenerate vmlinux/vmlinux.h from a BTF file (BTF=/sys/kernel/btf/vmlinux)

BUILD   ?= build
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := x86
BTF     ?= /sys/kernel/btf/vmlinux

PKGS     = libbpf libnl-route-3.0 libnl-3.0 libxml-2.0 json-c
# Recursive (=) so pkg-config runs after the deps step has installed the -dev packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

CFLAGS  ?= -O2 -g
USER_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $(CFLAGS) \
              -I$(BUILD) -Iuser -Ibpf $(PKG_CFLAGS)
BPF_CFLAGS  = -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              -Ivmlinux -Ibpf -I$(BUILD)

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS   := $(wildcard bpf/*.h)
USER_SRCS  := $(wildcard user/*.c)
USER_HDRS  := $(wildcard user/*.h)
USER_OBJS  := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
DEPS_STAMP := $(BUILD)/.deps-build

.PHONY: all run test unit bench fuzz clean vmlinux deps deps-test install-deps
all: $(BUILD)/macvguard

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/packages-build.txt scripts/deps.sh
	@mkdir -p $(BUILD)
	scripts/deps.sh build
	@touch $@

deps-test: deps
	scripts/deps.sh test

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) vmlinux/vmlinux.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(notdir $(basename $(basename $<)))_bpf > $@.tmp
	mv $@.tmp $@

$(BUILD)/obj/%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(BPF_SKELS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/macvguard: $(USER_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lelf -lz

# Regenerate the committed CO-RE header from a BTF file (a running kernel's, or one copied
# out of a test guest: make vmlinux BTF=build/vm/btf-6.1).
vmlinux:
	$(BPFTOOL) btf dump file $(BTF) format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

run: deps all
	@test "$$(id -u)" -eq 0 || { echo "make run: needs root (sudo make run)"; exit 1; }
	$(BUILD)/macvguard run

# Every suite prints ok/not ok lines and its own "N passed, N failed"; tests/run.sh sums them.
test: deps-test all
	BUILD=$(BUILD) tests/run.sh

bench: deps-test all
	BUILD=$(BUILD) tests/bench/run.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/*.o $(BUILD)/*.skel.h $(BUILD)/macvguard $(BUILD)/tests

# Keep generated BPF objects and skeletons (make would delete them as intermediates).
.SECONDARY: $(BPF_OBJS) $(BPF_SKELS)

-include tests/tests.mk
-include tests/tools/tools.mk
-include xml/xml.mk
-include tests/journal.mk

# `make fuzz`: every fuzzer, longer (FUZZ_SECONDS); xml/xml.mk adds its own prerequisite.
fuzz: fuzz-nlparse
