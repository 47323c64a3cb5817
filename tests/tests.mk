# Host unit tests, sanitizer build and libFuzzer target of the guard's netlink parsing and
# policy headers (bpf/mg_nlparse.h, bpf/mg_policy.h, bpf/mg_abi.h). -included by the top
# Makefile. Needs gcc, clang and libclang-rt-14-dev (scripts/packages-test.txt); nothing
# else: the tests include the BPF headers directly, no libbpf.
#   make unit-bins      plain, ASan/UBSan and fuzzer builds (tests/suites/10-unit.sh)
#   make unit-abi       host layout of every mg_abi.h struct, asserted in a clang -target bpf build
#   make fuzz-nlparse   run the fuzzer for FUZZ_SECONDS (default 600) from a generated corpus

UNIT_DIR        = $(BUILD)/tests
UNIT_HDRS       = bpf/mg_abi.h bpf/mg_nlparse.h bpf/mg_policy.h tests/unit/nl_ref.h
UNIT_CFLAGS     = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -g -Ibpf -Itests/unit
UNIT_SAN        = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
NLPARSE_CORPUS  = $(UNIT_DIR)/corpus-nlparse
NLPARSE_WORK    = $(UNIT_DIR)/corpus-nlparse-run
FUZZ_SECONDS   ?= 600

.PHONY: unit-bins unit-abi nlparse-corpus fuzz-nlparse

unit-bins: $(UNIT_DIR)/test_nlparse $(UNIT_DIR)/asan/test_nlparse $(UNIT_DIR)/fuzz_nlparse

$(UNIT_DIR)/test_nlparse: tests/unit/test_nlparse.c $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -O2 -o $@ $<

$(UNIT_DIR)/asan/test_nlparse: tests/unit/test_nlparse.c $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(UNIT_CFLAGS) -O1 $(UNIT_SAN) -o $@ $<

$(UNIT_DIR)/fuzz_nlparse: tests/unit/fuzz_nlparse.c $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(UNIT_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $<

# The layout gcc gives the host is asserted field by field in a BPF compile of mg_abi.h
# (plain __u* typedefs instead of vmlinux.h): fails to build if the two differ.
$(UNIT_DIR)/abi-host.h: $(UNIT_DIR)/test_nlparse
	$(UNIT_DIR)/test_nlparse --abi-asserts > $@.tmp
	mv $@.tmp $@

$(UNIT_DIR)/abi-bpf.o: tests/unit/abi_bpf.c $(UNIT_DIR)/abi-host.h bpf/mg_abi.h
	$(CLANG) -target bpf -mcpu=v3 -O2 -Wall -Werror -Ibpf -I$(UNIT_DIR) -c $< -o $@

unit-abi: $(UNIT_DIR)/abi-bpf.o

# Seed corpus: every batch the unit tests build (plus a few random ones), one file each.
$(NLPARSE_CORPUS)/.stamp: $(UNIT_DIR)/test_nlparse
	rm -rf $(NLPARSE_CORPUS)
	mkdir -p $(NLPARSE_CORPUS)
	$(UNIT_DIR)/test_nlparse --write-corpus $(NLPARSE_CORPUS) >/dev/null || true
	touch $@

nlparse-corpus: $(NLPARSE_CORPUS)/.stamp

fuzz-nlparse: $(UNIT_DIR)/fuzz_nlparse $(NLPARSE_CORPUS)/.stamp
	@mkdir -p $(NLPARSE_WORK)
	$(UNIT_DIR)/fuzz_nlparse -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(UNIT_DIR)/fuzz-nlparse- \
	    $(NLPARSE_WORK) $(NLPARSE_CORPUS)

# Ownership parsing (user/ownparse.c) on the samples in tests/libvirt/: plain and ASan/UBSan.
OWN_SRCS = tests/unit/test_ownership.c user/ownparse.c user/common.c
OWN_DEPS = $(OWN_SRCS) user/ownership.h user/common.h bpf/mg_abi.h
OWN_FLAGS = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -g -Iuser -Ibpf \
            $(shell pkg-config --cflags libxml-2.0 json-c)
OWN_LIBS = $(shell pkg-config --libs libxml-2.0 json-c)
.PHONY: ownership-bins
ownership-bins: $(UNIT_DIR)/test_ownership $(UNIT_DIR)/asan/test_ownership
$(UNIT_DIR)/test_ownership: $(OWN_DEPS)
	@mkdir -p $(@D)
	$(CC) $(OWN_FLAGS) -O2 -o $@ $(OWN_SRCS) $(OWN_LIBS)
$(UNIT_DIR)/asan/test_ownership: $(OWN_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(OWN_FLAGS) -O1 $(UNIT_SAN) -o $@ $(OWN_SRCS) $(OWN_LIBS)
