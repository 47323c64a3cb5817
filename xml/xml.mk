# XML rules (issue 3): test, sanitizer and fuzz builds. -included by the top Makefile.
#   make xml-test-bins   everything tests/suites/20-xml.sh needs
#   make fuzz            run the sanitizer fuzzer for FUZZ_SECONDS (default 600)

XML_PKGS     = libxml-2.0 json-c
XML_CFLAGS   = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -g -Iuser \
               $(shell pkg-config --cflags $(XML_PKGS))
XML_LIBS     = $(shell pkg-config --libs $(XML_PKGS))
XML_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
XML_LIB_SRC  = user/xmlrules.c
XML_CLI_SRC  = user/xml_cmd.c user/hook.c user/xmlrules.c tests/xml/cli_main.c \
               user/ownparse.c user/ownership.c user/common.c user/netns.c
# The hook's ownership ops (issue 5) talk to pinned BPF maps and netlink.
XML_CLI_FLAGS = -Ibpf $(shell pkg-config --cflags libbpf libnl-route-3.0 libnl-3.0)
XML_CLI_LIBS  = $(shell pkg-config --libs libbpf libnl-route-3.0 libnl-3.0)
XML_HDRS     = user/xmlrules.h user/xml_cmd.h user/hook.h
FUZZ_SECONDS ?= 600
XML_FUZZ_CORPUS = $(BUILD)/fuzz/xml-corpus

.PHONY: xml-test-bins xml-bench-bins xml-fuzz fuzz

xml-test-bins: $(BUILD)/macvguard $(BUILD)/xml/unit $(BUILD)/asan/xml-unit \
               $(BUILD)/asan/macvguard-xml $(BUILD)/fuzz/xml-fuzz

xml-bench-bins: $(BUILD)/macvguard $(BUILD)/xml/bench

$(BUILD)/xml/bench: tests/xml/bench.c $(XML_LIB_SRC) $(XML_HDRS)
	@mkdir -p $(@D)
	$(CC) $(XML_CFLAGS) -O2 -o $@ tests/xml/bench.c $(XML_LIB_SRC) $(XML_LIBS)

$(BUILD)/xml/unit: tests/xml/unit.c $(XML_LIB_SRC) $(XML_HDRS)
	@mkdir -p $(@D)
	$(CC) $(XML_CFLAGS) -O2 -o $@ tests/xml/unit.c $(XML_LIB_SRC) $(XML_LIBS)

$(BUILD)/asan/xml-unit: tests/xml/unit.c $(XML_LIB_SRC) $(XML_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(XML_CFLAGS) -O1 $(XML_SAN) -o $@ tests/xml/unit.c $(XML_LIB_SRC) $(XML_LIBS)

$(BUILD)/asan/macvguard-xml: $(XML_CLI_SRC) $(XML_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(XML_CFLAGS) $(XML_CLI_FLAGS) -O1 $(XML_SAN) -o $@ $(XML_CLI_SRC) $(XML_LIBS) $(XML_CLI_LIBS)

$(BUILD)/fuzz/xml-fuzz: tests/fuzz/xml_fuzz.c $(XML_LIB_SRC) $(XML_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(XML_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ tests/fuzz/xml_fuzz.c $(XML_LIB_SRC) $(XML_LIBS)

# Long run: seeds from the samples and attack files, corpus kept under $(BUILD).
xml-fuzz: $(BUILD)/fuzz/xml-fuzz
	@mkdir -p $(XML_FUZZ_CORPUS)
	$(BUILD)/fuzz/xml-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -dict=tests/fuzz/xml.dict -timeout=10 -rss_limit_mb=2048 \
	    $(XML_FUZZ_CORPUS) xml/samples tests/xml/attacks

fuzz: xml-fuzz
