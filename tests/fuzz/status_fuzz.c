/* libFuzzer target for the status-file / hook-XML parser (user/domstatus.c through the one
 * libvirt-XML reader). Besides ASan/UBSan's "no crash, no leak, no UB": on success the
 * domain has a name and at most MG_OWN_MAX_IFACES interfaces whose names fit; on failure
 * there is a message. Built by tests/tests.mk; 28-harden.sh runs it short, `make fuzz`
 * long. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domstatus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mg_domstatus ds;
	char err[256];

	if (mg_status_parse((const char *)data, size, &ds, err, sizeof(err))) {
		if (!err[0])
			abort();
		return 0;
	}
	if (!ds.name[0] || ds.niface > MG_OWN_MAX_IFACES)
		abort();
	for (size_t i = 0; i < ds.niface; i++)
		if (strnlen(ds.iface[i].dev, MG_IFNAMSIZ) >= MG_IFNAMSIZ)
			abort();
	mg_iface_guardable(&ds.iface[0]);
	mg_status_live(&ds);
	return 0;
}
