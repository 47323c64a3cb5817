#!/usr/bin/python3
# Start windows and creation claims at the kernel guard, without libvirt (run by
# tests/guest/start_claims.sh in a test guest with the agent running): this process plays a
# libvirt daemon. Its threads run `macvguard hook qemu D OP SUBOP -` as libvirt's worker
# threads do (the hook finds the forking thread), and send the RTM_NEWLINK/RTM_DELLINK
# libvirt sends, from the same thread. Prints "ok - ..." / "not ok - ..." lines.
import json, os, socket, struct, subprocess, sys, threading, time

MG, EVENTS = sys.argv[1], sys.argv[2]
RTM_NEWLINK, RTM_DELLINK = 16, 17
F_REQUEST, F_ACK, F_EXCL, F_CREATE = 1, 4, 0x200, 0x400
EPERM, EEXIST = 1, 17
results = []


def rta(t, data):
    n = 4 + len(data)
    return struct.pack("HH", n, t) + data + b"\0" * ((4 - n % 4) % 4)


def nl(msg_type, flags, attrs):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    try:
        body = struct.pack("BxHiII", 0, 0, 0, 0, 0) + attrs
        try:
            s.sendto(struct.pack("IHHII", 16 + len(body), msg_type, flags, 1, 0) + body, (0, 0))
        except OSError as e:
            return e.errno          # refused by the guard: sendmsg fails with EPERM
        r = s.recv(65536)
        if struct.unpack_from("H", r, 4)[0] == 2:     # NLMSG_ERROR
            return -struct.unpack_from("i", r, 16)[0]
        return 0
    finally:
        s.close()


def create(name):
    lower = int(open("/sys/class/net/v0/ifindex").read())
    kind = rta(1, b"macvtap\0") + rta(2, rta(1, struct.pack("I", 4)))   # mode bridge
    return nl(RTM_NEWLINK, F_REQUEST | F_ACK | F_CREATE | F_EXCL,
              rta(3, name.encode() + b"\0") + rta(5, struct.pack("I", lower)) + rta(18, kind))


def delete(name):
    return nl(RTM_DELLINK, F_REQUEST | F_ACK, rta(3, name.encode() + b"\0"))


def hook(dom, op, sub="begin"):
    subprocess.run([MG, "hook", "qemu", dom, op, sub, "-"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def on_thread(fn, *a):
    """Run fn on a new thread of this process (another libvirt worker); its result."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*a)))
    t.start()
    t.join()
    return out[0]


class Worker:
    """A long-lived thread of this process taking jobs: one libvirt worker thread."""
    def __init__(self):
        self.jobs, self.done = [], threading.Semaphore(0)
        self.go = threading.Semaphore(0)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            self.go.acquire()
            fn, a, box = self.jobs.pop(0)
            box.append(fn(*a))
            self.done.release()

    def run(self, fn, *a):
        box = []
        self.jobs.append((fn, a, box))
        self.go.release()
        self.done.acquire()
        return box[0]


def exists(name):
    return os.path.exists("/sys/class/net/" + name)


def ifindex(name):
    try:
        return int(open("/sys/class/net/%s/ifindex" % name).read())
    except OSError:
        return 0


def check(cond, name, why=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else ": " + why), flush=True)
    results.append(bool(cond))


def event(**want):
    """The last event (monitor's JSON lines) with every field as wanted, within 5 s."""
    for _ in range(50):
        try:
            lines = open(EVENTS).read().splitlines()
        except OSError:
            lines = []
        for line in reversed(lines):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if all(e.get(k) == v for k, v in want.items()):
                return e
        time.sleep(0.1)
    return None


def shell_delete(name):
    return subprocess.run(["ip", "link", "del", name], capture_output=True).returncode


a, b = Worker(), Worker()          # two worker threads of one daemon process

# 1. a creation claim guards the new link for its domain
a.run(hook, "dA", "prepare")
check(a.run(create, "sA") == 0 and exists("sA"), "d A's thread creates sA in its start window")
check(shell_delete("sA") != 0 and exists("sA"), "a shell cannot delete sA while d A starts")
e = event(ifname="sA", verdict="deny", owner_domain="dA", reason="starting")
check(e is not None, "deny event: owner dA, reason starting", "none")
check(b.run(delete, "sA") == EPERM and exists("sA"), "another thread of the daemon cannot delete sA")
b.run(hook, "dB", "stopped", "end")
check(b.run(delete, "sA") == EPERM and exists("sA"),
      "dB's teardown thread cannot delete dA's starting sA (the libvirt 9.0 bug)")
e = event(ifname="sA", verdict="deny", owner_domain="dA", teardown_domain="dB", reason="starting")
check(e is not None, "deny event names owner dA and the teardown of dB", "none")
b.run(hook, "dB", "release", "end")

# 2. a second start of the same name cannot take the claim over
b.run(hook, "dB", "prepare")
check(b.run(create, "sA") == EEXIST, "dB's create of the same name fails with EEXIST")
check(b.run(delete, "sA") == EPERM and exists("sA"), "dB's start thread cannot delete dA's sA")
b.run(hook, "dB", "stopped", "end")
check(b.run(delete, "sA") == EPERM and exists("sA"), "... nor after dB's stopped hook (failed-start cleanup)")
b.run(hook, "dB", "release", "end")

# 3. the domain's own start thread may remove it (its failed start)
idx = ifindex("sA")
check(a.run(delete, "sA") == 0 and not exists("sA"), "dA's own start thread deletes sA (own failed start)")
e = event(ifindex=idx, record="delete", verdict="allow", reason="owner")
check(e is not None, "deletion record: allowed, reason owner (the domain's own)", "none")

# 4. the domain's teardown on another thread (virsh destroy during the start) may too
check(a.run(create, "sA") == 0, "dA creates sA again in the same window")
b.run(hook, "dA", "stopped", "end")
check(b.run(delete, "sA") == 0 and not exists("sA"), "dA's teardown thread deletes sA")
b.run(hook, "dA", "release", "end")

# 5. a closed window protects nothing; an older device of the name is not claimed
a.run(hook, "dC", "prepare")
check(a.run(create, "sC") == 0, "dC creates sC")
a.run(hook, "dC", "release", "end")
check(shell_delete("sC") == 0, "after dC's release, sC is unguarded (window closed, claim dropped)")
subprocess.run(["ip", "link", "add", "sD", "link", "v0", "type", "macvtap"], check=False)
a.run(hook, "dD", "prepare")
check(a.run(create, "sD") == EEXIST, "dD's create of an existing sD fails with EEXIST")
check(shell_delete("sD") == 0, "the older sD is not dD's: a shell deletes it")
a.run(hook, "dD", "release", "end")

# 6. started closes the window
a.run(hook, "dE", "prepare")
check(a.run(create, "sE") == 0, "dE creates sE")
a.run(hook, "dE", "started")
check(shell_delete("sE") == 0, "after dE's started hook, sE's claim is gone (its tag would guard it)")

print("PY %d passed, %d failed" % (results.count(True), results.count(False)), flush=True)

# 7. the daemon dies during a start: left for start_claims.sh to check
a.run(hook, "dF", "prepare")
a.run(create, "sF")
print("PY left sF", flush=True)
os._exit(0)
