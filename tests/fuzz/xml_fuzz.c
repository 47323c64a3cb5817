/* libFuzzer target for the sanitizer (user/xmlrules.c). Besides "no crash, no leak,
 * no UB" (ASan/UBSan), it checks the sanitizer's own promises:
 *   - on success the output is accepted again, and a second pass changes nothing;
 *   - in live mode a <domain> document comes back byte for byte;
 *   - on failure there is an error message and no output, and never an internal
 *     error (those mean the byte scanner and the parser disagree).
 * Built by xml/xml.mk; `make fuzz` runs it longer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmlrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_xml_opts o;
	struct mg_xml_result r, again;
	enum mg_xml_mode mode = size ? (enum mg_xml_mode)(data[0] % 3) : MG_XML_INACTIVE;

	mg_xml_opts_init(&o);
	o.mode = mode;
	if (size && (data[0] & 0x80))
		mg_xml_add_prefix(&o, "vif");
	if (mg_xml_sanitize((const char *)data, size, &o, &r)) {
		if (!r.err[0] || r.out || r.internal) {
			fprintf(stderr, "bad failure: '%s' internal=%d\n", r.err, r.internal);
			abort();
		}
		mg_xml_result_free(&r);
		return 0;
	}
	if (mode == MG_XML_LIVE && r.root == MG_XML_ROOT_DOMAIN &&
	    (r.changed || r.out_len != size || memcmp(r.out, data, size)))
		abort();
	if (mg_xml_sanitize(r.out, r.out_len, &o, &again)) {
		fprintf(stderr, "output rejected: %s\n", again.err);
		abort();
	}
	if (mode != MG_XML_LIVE && (again.changed || again.nfindings))
		abort();
	mg_xml_result_free(&again);
	mg_xml_result_free(&r);
	return 0;
}
