# Every test build rule, in one place (included by the top Makefile). Unit tests and
# fuzzers link build/libmg.a (or its ASan/UBSan twin build/asan/libmg.a); the BPF header
# tests (mg_nlparse.h, mg_policy.h, mg_abi.h) need no library at all.
#   make unit-bins       netlink parser/policy: plain, ASan/UBSan, fuzzer (10-unit.sh)
#   make unit-abi        host layout of every mg_abi.h struct, asserted in a BPF build
#   make xml-test-bins   XML rules: unit (plain, ASan/UBSan), fuzzer, ASan binary (20-xml.sh)
#   make ownership-bins  status-file parsing, plain and ASan/UBSan (25-ownership.sh)
#   make journal-bins    the journal, plain and ASan/UBSan (27-journal.sh)
#   make harden-bins     issue 12's library checks and helpers, plain and ASan/UBSan (28-harden.sh)
#   make test-tools      nlreq, nlflood and holdtap, run inside the VM guests
#   make harden-fuzz-bins  fuzzers of status files, journal segments, postmortem input (28-harden.sh)
#   make config-fuzz-bins  the configuration reader's fuzzer (32-service.sh)
#   make fuzz            every fuzzer for FUZZ_SECONDS (default 600)

UNIT_DIR     = $(BUILD)/tests
FUZZ_SECONDS ?= 600
TEST_CFLAGS  = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -g $(DEPFLAGS) -Iuser -Ibpf \
               -Itests/unit $(PKG_CFLAGS)
FUZZ_FLAGS   = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.PHONY: unit-bins unit-abi nlparse-corpus fuzz-nlparse xml-test-bins xml-bench-bins xml-fuzz \
        harden-fuzz-bins status-fuzz journal-fuzz postmortem-fuzz config-fuzz-bins config-fuzz \
        ownership-bins journal-bins harden-bins test-tools

# ---- the guard's netlink parsing and policy headers (no library) ----
NLPARSE_CORPUS = $(UNIT_DIR)/corpus-nlparse
NLPARSE_WORK   = $(UNIT_DIR)/corpus-nlparse-run

unit-bins: $(UNIT_DIR)/test_nlparse $(UNIT_DIR)/asan/test_nlparse $(UNIT_DIR)/fuzz_nlparse

$(UNIT_DIR)/test_nlparse: tests/unit/test_nlparse.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -o $@ $<

$(UNIT_DIR)/asan/test_nlparse: tests/unit/test_nlparse.c
	@mkdir -p $(@D)
	$(CLANG) $(TEST_CFLAGS) -O1 $(SAN_FLAGS) -o $@ $<

$(UNIT_DIR)/fuzz_nlparse: tests/unit/fuzz_nlparse.c
	@mkdir -p $(@D)
	$(CLANG) $(TEST_CFLAGS) -O1 $(FUZZ_FLAGS) -o $@ $<

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

# ---- tests that link the library ----
# $(call lib_test,OUT,SRC): OUT linked from SRC and libmg.a; the asan/ twin from the
# sanitizer library.
define lib_test
$(UNIT_DIR)/$(1): $(2) $(LIBMG)
	@mkdir -p $$(@D)
	$$(CC) $$(TEST_CFLAGS) -O2 -o $$@ $(2) $(LIBMG) $$(PKG_LIBS)
$(UNIT_DIR)/asan/$(1): $(2) $(LIBMG_SAN)
	@mkdir -p $$(@D)
	$$(CLANG) $$(TEST_CFLAGS) -O1 $$(SAN_FLAGS) -o $$@ $(2) $(LIBMG_SAN) $$(PKG_LIBS)
endef
$(eval $(call lib_test,test_ownership,tests/unit/test_ownership.c))
$(eval $(call lib_test,test_journal,tests/unit/test_journal.c))
$(eval $(call lib_test,xml-unit,tests/xml/unit.c))
$(eval $(call lib_test,test_harden,tests/unit/test_harden.c))

ownership-bins: $(UNIT_DIR)/test_ownership $(UNIT_DIR)/asan/test_ownership
journal-bins: $(UNIT_DIR)/test_journal $(UNIT_DIR)/asan/test_journal
harden-bins: $(UNIT_DIR)/test_harden $(UNIT_DIR)/asan/test_harden

# ---- XML rules ----
XML_FUZZ_CORPUS = $(BUILD)/fuzz/xml-corpus

xml-test-bins: $(BUILD)/macvguard $(UNIT_DIR)/xml-unit $(UNIT_DIR)/asan/xml-unit \
               $(BUILD)/asan/macvguard $(BUILD)/fuzz/xml-fuzz

xml-bench-bins: $(BUILD)/macvguard $(UNIT_DIR)/xml-bench

$(UNIT_DIR)/xml-bench: tests/xml/bench.c $(LIBMG)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -o $@ $< $(LIBMG) $(PKG_LIBS)

$(BUILD)/fuzz/xml-fuzz: tests/fuzz/xml_fuzz.c $(LIBMG_SAN)
	@mkdir -p $(@D)
	$(CLANG) $(TEST_CFLAGS) -O1 $(FUZZ_FLAGS) -o $@ $< $(LIBMG_SAN) $(PKG_LIBS)

# Long run: seeds from the samples and attack files, corpus kept under $(BUILD).
xml-fuzz: $(BUILD)/fuzz/xml-fuzz
	@mkdir -p $(XML_FUZZ_CORPUS)
	$(BUILD)/fuzz/xml-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -dict=tests/fuzz/xml.dict -timeout=10 -rss_limit_mb=2048 \
	    $(XML_FUZZ_CORPUS) xml/samples tests/xml/attacks

# ---- issue 12's fuzzers: status files, journal segments, postmortem input ----------------
# Each from the ASan/UBSan library; 28-harden.sh runs them short (HARDEN_FUZZ_SECONDS),
# `make fuzz` for FUZZ_SECONDS. Corpora are kept under $(BUILD)/fuzz.
HARDEN_FUZZERS = $(BUILD)/fuzz/status-fuzz $(BUILD)/fuzz/journal-fuzz $(BUILD)/fuzz/postmortem-fuzz
# the configuration reader (issue 12 item 5, issue 13): 32-service.sh runs it short
CONFIG_FUZZER  = $(BUILD)/fuzz/config-fuzz
JOURNAL_SEEDS  = $(BUILD)/fuzz/journal-seeds

harden-fuzz-bins: $(HARDEN_FUZZERS) $(JOURNAL_SEEDS)/.stamp
config-fuzz-bins: $(CONFIG_FUZZER)

$(BUILD)/fuzz/%-fuzz: tests/fuzz/%_fuzz.c $(LIBMG_SAN)
	@mkdir -p $(@D)
	$(CLANG) $(TEST_CFLAGS) -O1 $(FUZZ_FLAGS) -o $@ $< $(LIBMG_SAN) $(PKG_LIBS)

# Seeds: a small generated journal (real record shapes) and a segment with a corrupt middle.
$(JOURNAL_SEEDS)/.stamp: $(UNIT_DIR)/test_journal
	rm -rf $(JOURNAL_SEEDS) $(JOURNAL_SEEDS).gen
	mkdir -p $(JOURNAL_SEEDS)
	$(UNIT_DIR)/test_journal gen $(JOURNAL_SEEDS).gen 30 h1 >/dev/null
	for f in $(JOURNAL_SEEDS).gen/seg-*.mgj; do head -c 16384 $$f > $(JOURNAL_SEEDS)/$$(basename $$f); done
	head -c 3000 $(JOURNAL_SEEDS)/seg-0000000000000001.mgj | tr 'a' 'b' > $(JOURNAL_SEEDS)/flipped.mgj
	rm -rf $(JOURNAL_SEEDS).gen
	touch $@

# $(call run_fuzz,NAME,SEEDS,EXTRA): NAME-fuzz for FUZZ_SECONDS on a kept corpus.
define run_fuzz
	@mkdir -p $(BUILD)/fuzz/$(1)-corpus
	$(BUILD)/fuzz/$(1)-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$(1)- $(3) \
	    $(BUILD)/fuzz/$(1)-corpus $(2)
endef

status-fuzz: $(BUILD)/fuzz/status-fuzz
	$(call run_fuzz,status,tests/libvirt/status tests/libvirt/bad,-max_len=65536 -dict=tests/fuzz/xml.dict)
journal-fuzz: $(BUILD)/fuzz/journal-fuzz $(JOURNAL_SEEDS)/.stamp
	$(call run_fuzz,journal,$(JOURNAL_SEEDS),-max_len=32768)
postmortem-fuzz: $(BUILD)/fuzz/postmortem-fuzz
	$(call run_fuzz,postmortem,tests/fuzz/postmortem-seeds,-max_len=16384 -close_fd_mask=2)

config-fuzz: $(CONFIG_FUZZER)
	$(call run_fuzz,config,tests/fuzz/config-seeds,-max_len=4096 -dict=tests/fuzz/config.dict)

fuzz: fuzz-nlparse xml-fuzz status-fuzz journal-fuzz postmortem-fuzz config-fuzz

# ---- tools run inside the VM guests (built on the host, run unchanged there) ----
TEST_TOOLS := $(UNIT_DIR)/nlreq $(UNIT_DIR)/holdtap $(UNIT_DIR)/nlflood

$(UNIT_DIR)/nlreq $(UNIT_DIR)/holdtap $(UNIT_DIR)/nlflood: $(UNIT_DIR)/%: tests/tools/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -g -o $@ $<

test-tools: $(TEST_TOOLS)
