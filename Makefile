# macvguard — build, run and test.
#   make            build build/macvguard (needs the build packages; see scripts/deps.sh)
#   sudo make run   install what is missing, build, run the agent in the best mode the kernel allows
#   sudo make test  install what is missing, build, run every test suite (host + VM kernels)
#   make bench      speed figures (see docs/performance.md)
#   make fuzz       every fuzzer, longer (FUZZ_SECONDS, default 600)
#   make vmlinux    regenerate vmlinux/vmlinux.h from a BTF file (BTF=/sys/kernel/btf/vmlinux)
#   make deb        Debian package build/macvguard_VERSION_amd64.deb (sudo apt install ./build/macvguard_*.deb)
#
# Layout of the build: bpf/*.bpf.c -> BPF objects -> (guard: linked) -> skeletons; user/*.c except main.c ->
# build/libmg.a (and build/asan/libmg.a, with ASan/UBSan), which the binary, the unit
# tests and the fuzzers link. Test build rules live in tests/tests.mk.

BUILD   ?= build
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := x86
BTF     ?= /sys/kernel/btf/vmlinux

# libsystemd: sd_notify/sd_watchdog_enabled (Type=notify unit), sd_journal_sendv (the
# journald copy with MESSAGE_ID and fields) and sd-journal (postmortem --journal-dir).
PKGS     = libbpf libnl-route-3.0 libnl-3.0 libxml-2.0 json-c libsystemd
# The version has one source, debian/changelog; the commit is added when built from git.
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null)
# Recursive (=) so pkg-config runs after the deps step has installed the -dev packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lelf -lz

CFLAGS  ?= -O2 -g
# -MMD -MP: every object depends on exactly the headers it includes (build/**/*.d).
DEPFLAGS    = -MMD -MP
USER_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $(CFLAGS) $(DEPFLAGS) \
              -I$(BUILD) -Iuser -Ibpf $(PKG_CFLAGS)
SAN_FLAGS   = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
BPF_CFLAGS  = -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror $(DEPFLAGS) \
              -Ivmlinux -Ibpf -I$(BUILD)

# Each bpf/*.bpf.c compiles to $(BUILD)/parts/*.bpf.o; libbpf's static linker then makes
# two objects: $(BUILD)/guard.bpf.o (skeleton guard_bpf: the LSM hook, the shared walk and
# resolution, the deletion monitor) and $(BUILD)/fallback.bpf.o (skeleton fallback_bpf: the
# syscall tracepoints with the same walk and resolution; tracepoint programs only).
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_PARTS  := $(patsubst bpf/%.bpf.c,$(BUILD)/parts/%.bpf.o,$(BPF_SRCS))
GUARD_OBJS := $(BUILD)/parts/guard_request.bpf.o $(BUILD)/parts/guard_walk.bpf.o \
              $(BUILD)/parts/guard_resolve.bpf.o $(BUILD)/parts/guard_verdict.bpf.o \
              $(BUILD)/parts/guard_ioctl.bpf.o $(BUILD)/parts/monitor.bpf.o \
              $(BUILD)/parts/guard_start.bpf.o
FALLBACK_OBJS := $(BUILD)/parts/fallback.bpf.o $(BUILD)/parts/guard_walk.bpf.o \
                 $(BUILD)/parts/guard_resolve.bpf.o $(BUILD)/parts/guard_verdict.bpf.o \
                 $(BUILD)/parts/guard_start.bpf.o
BPF_SKELS  := $(BUILD)/guard.skel.h $(BUILD)/fallback.skel.h
LIB_SRCS   := $(filter-out user/main.c,$(wildcard user/*.c))
LIB_OBJS   := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
SAN_OBJS   := $(patsubst user/%.c,$(BUILD)/asan/obj/%.o,$(LIB_SRCS))
LIBMG      := $(BUILD)/libmg.a
LIBMG_SAN  := $(BUILD)/asan/libmg.a
DEPS_STAMP := $(BUILD)/.deps-build

.PHONY: all run test bench fuzz clean vmlinux deps deps-test install uninstall demo deb deps-deb FORCE
all: $(BUILD)/macvguard

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/packages-build.txt scripts/deps.sh
	@mkdir -p $(BUILD)
	scripts/deps.sh build
	@touch $@

deps-test: deps
	scripts/deps.sh test

$(BUILD)/parts/%.bpf.o: bpf/%.bpf.c vmlinux/vmlinux.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# libbpf's static linker: one map per __weak definition in maps.bpf.h, extern functions
# resolved across files.
$(BUILD)/guard.bpf.o: $(GUARD_OBJS)
	$(BPFTOOL) gen object $@ $(filter %.bpf.o,$^)

$(BUILD)/fallback.bpf.o: $(FALLBACK_OBJS)
	$(BPFTOOL) gen object $@ $(filter %.bpf.o,$^)

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(notdir $(basename $(basename $<)))_bpf > $@.tmp
	mv $@.tmp $@

# The skeletons are generated headers: build them before any user object (a first build
# has no .d files yet to say which object needs which).
$(BUILD)/obj/%.o: user/%.c | $(BPF_SKELS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/asan/obj/%.o: user/%.c | $(BPF_SKELS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(USER_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

# Rewritten only when the version or commit changed (cmd_version.o depends on it).
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define MG_VERSION "%s"\n#define MG_GIT "%s"\n' '$(VERSION)' '$(GIT_REV)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/cmd_version.o $(BUILD)/asan/obj/cmd_version.o $(BUILD)/obj/agent_journal.o \
    $(BUILD)/asan/obj/agent_journal.o: $(BUILD)/version.h

$(LIBMG): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(LIBMG_SAN): $(SAN_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/macvguard: $(BUILD)/obj/main.o $(LIBMG)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# The whole binary with ASan/UBSan (the XML command and the hook are tested through it).
$(BUILD)/asan/macvguard: $(BUILD)/asan/obj/main.o $(LIBMG_SAN)
	$(CLANG) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

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

# Installed like a service: binary, systemd unit, configuration (kept when present), man
# pages macvguard(8) and macvguard.conf(5), bash completion (where bash-completion looks:
# /usr/share/bash-completion/completions whatever PREFIX is).
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= /usr/share/bash-completion/completions
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/macvguard
	install -m 0755 $(BUILD)/macvguard $(DESTDIR)$(SBINDIR)/macvguard
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/macvguard.service \
	    > $(DESTDIR)$(UNITDIR)/macvguard.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/macvguard.service
	test -e $(DESTDIR)$(SYSCONFDIR)/macvguard/macvguard.conf || \
	    install -m 0644 dist/macvguard.conf $(DESTDIR)$(SYSCONFDIR)/macvguard/macvguard.conf
	install -m 0644 man/macvguard.8 $(DESTDIR)$(MANDIR)/man8/macvguard.8
	install -m 0644 man/macvguard.conf.5 $(DESTDIR)$(MANDIR)/man5/macvguard.conf.5
	install -m 0644 dist/macvguard.bash $(DESTDIR)$(BASHCOMPDIR)/macvguard
	@echo "installed. Next: systemctl daemon-reload && systemctl enable --now macvguard;"
	@echo "then: $(SBINDIR)/macvguard hook install --reload  (libvirt reads hooks only at start/reload)"

# Leaves the configuration file if it was changed from the shipped one. On the real root
# (no DESTDIR) it first removes the libvirt hook and stops the agent and unpins the guard,
# as the Debian package's prerm does.
uninstall:
	-if [ -z "$(DESTDIR)" ] && [ -x $(SBINDIR)/macvguard ]; then \
	    $(SBINDIR)/macvguard hook uninstall --reload; $(SBINDIR)/macvguard stop --unpin; fi
	rm -f $(DESTDIR)$(SBINDIR)/macvguard $(DESTDIR)$(UNITDIR)/macvguard.service \
	    $(DESTDIR)$(MANDIR)/man8/macvguard.8 $(DESTDIR)$(MANDIR)/man5/macvguard.conf.5 \
	    $(DESTDIR)$(BASHCOMPDIR)/macvguard
	if cmp -s dist/macvguard.conf $(DESTDIR)$(SYSCONFDIR)/macvguard/macvguard.conf; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/macvguard/macvguard.conf; \
	    rmdir $(DESTDIR)$(SYSCONFDIR)/macvguard 2>/dev/null || true; fi

# Debian package: build/macvguard_VERSION_amd64.deb (debian/; VERSION comes from
# debian/changelog only). dpkg-buildpackage runs in a copy of the tree under $(BUILD)/deb,
# so it writes nothing into the source tree; then lintian (errors fail the build).
DEB     := $(BUILD)/macvguard_$(VERSION)_amd64.deb
deps-deb: deps
	scripts/deps.sh deb
deb: deps-deb
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/macvguard-$(VERSION)
	tar -cf - --exclude=./.git --exclude=./build --exclude=./$(BUILD) . | \
	    tar -xf - -C $(BUILD)/deb/macvguard-$(VERSION)
	cd $(BUILD)/deb/macvguard-$(VERSION) && dpkg-buildpackage -b -us -uc
	cp $(BUILD)/deb/macvguard_$(VERSION)_amd64.deb $(DEB)
	lintian --fail-on error --info $(BUILD)/deb/macvguard_$(VERSION)_amd64.changes
	@echo "built $(DEB): sudo apt install ./$(DEB)"

# A newcomer's demo: boots the 6.1 test guest with a real libvirtd and shows the failure
# without macvguard, then with it (tests/demo/README.md).
demo: all
	tests/demo/demo.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/parts $(BUILD)/*.o $(BUILD)/*.d $(BUILD)/*.skel.h \
	    $(BUILD)/libmg.a $(BUILD)/macvguard $(BUILD)/tests $(BUILD)/xml $(BUILD)/fuzz

# Keep generated BPF objects and skeletons (make would delete them as intermediates).
.SECONDARY: $(BPF_PARTS) $(BUILD)/guard.bpf.o $(BUILD)/fallback.bpf.o $(BPF_SKELS)

include tests/tests.mk
-include $(wildcard $(BUILD)/*.d $(BUILD)/parts/*.d $(BUILD)/obj/*.d $(BUILD)/asan/obj/*.d $(BUILD)/tests/*.d \
    $(BUILD)/tests/asan/*.d $(BUILD)/xml/*.d $(BUILD)/fuzz/*.d)
