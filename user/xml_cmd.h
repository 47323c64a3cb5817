/* XML rules (libvirt's generated-name sanitizing) and the libvirt hook entry point. */
#ifndef MG_XML_CMD_H
#define MG_XML_CMD_H
/* argv[0] is the subcommand word ("xml" / "hook"); return value is the process exit code. */
int mg_cmd_xml(int argc, char **argv);
int mg_cmd_hook(int argc, char **argv);
#endif
