# Test tools run inside the VM guests (built on the host, run unchanged there).
TEST_TOOLS := $(BUILD)/tests/nlreq $(BUILD)/tests/holdtap

$(BUILD)/tests/%: tests/tools/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -g -o $@ $<

.PHONY: test-tools
test-tools: $(TEST_TOOLS)
