/* A main() for the ASan/UBSan build of the XML command and the hook (xml/xml.mk):
 * the same dispatch as `macvguard xml ...` / `macvguard hook ...`, without the BPF
 * parts of the real binary. */
#include <stdio.h>
#include <string.h>

#include "xml_cmd.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "xml"))
		return mg_cmd_xml(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "hook"))
		return mg_cmd_hook(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s xml|hook ...\n", argv[0]);
	return 2;
}
