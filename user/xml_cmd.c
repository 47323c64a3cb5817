/* Placeholder until the XML rules land. */
#include <stdio.h>
#include "xml_cmd.h"
int mg_cmd_xml(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "macvguard xml: not built yet\n"); return 2; }
int mg_cmd_hook(int argc, char **argv) { (void)argc; (void)argv; return 0; }
