# Flight recorder (issue 6): unit tests of user/journal.c (plain and ASan/UBSan) and the
# helper modes the suite and the bench use. -included by the top Makefile.
#   make journal-bins   build/tests/test_journal, build/tests/asan/test_journal
JOURNAL_UNIT_SRC = tests/unit/test_journal.c user/journal.c
JOURNAL_UNIT_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -g -Iuser

.PHONY: journal-bins
journal-bins: $(BUILD)/tests/test_journal $(BUILD)/tests/asan/test_journal

$(BUILD)/tests/test_journal: $(JOURNAL_UNIT_SRC) user/journal.h
	@mkdir -p $(@D)
	$(CC) $(JOURNAL_UNIT_CFLAGS) -O2 -o $@ $(JOURNAL_UNIT_SRC)

$(BUILD)/tests/asan/test_journal: $(JOURNAL_UNIT_SRC) user/journal.h
	@mkdir -p $(@D)
	$(CLANG) $(JOURNAL_UNIT_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer -o $@ $(JOURNAL_UNIT_SRC)

# The hook writes journal records (user/hook_journal.c): the ASan/UBSan build of the XML
# command and the hook (xml/xml.mk) links the journal code too.
JOURNAL_HOOK_SRC = user/hook_journal.c user/jlog.c user/journal.c user/common.c user/events.c
XML_CLI_SRC := $(sort $(XML_CLI_SRC) $(JOURNAL_HOOK_SRC))   # sort: also drops duplicates
XML_CFLAGS += -Ibpf
$(BUILD)/asan/macvguard-xml: $(JOURNAL_HOOK_SRC) user/journal.h user/jlog.h
