/* Where macvguard keeps its state on a host (the pins are in mg_abi.h: MG_PIN_DIR). */
#ifndef MG_PATHS_H
#define MG_PATHS_H

#define MG_RUN_DIR            "/run/macvguard"
#define MG_PIDFILE            MG_RUN_DIR "/agent.pid"
#define MG_STATUSFILE         MG_RUN_DIR "/status.json"
#define MG_EVENTS_SOCK        MG_RUN_DIR "/events.sock"
#define MG_DEFAULT_CONF       "/etc/macvguard/macvguard.conf"
#define MG_DEFAULT_STATUS_DIR "/run/libvirt/qemu"

#endif
