#!/usr/bin/python3
"""tiny.py -- benchmark 4: wall time of one `hm-publisher emit` and one `hm-publisher oci-hook`
(each a whole process: start, one event, its ACK, exit) over the wall time of /bin/true, measured by
bench/spawn_probe in the same run. Goal: p50 <= 3 ms, and the ratio printed.

The goal is measured on the fast path: a unix:// endpoint, the publisher's LOCAL_ENDPOINT, which
the hm-publisher launcher (libc and jansson only) talks to directly. The second line of each is the
same command over the ZeroMQ command endpoint (the launcher runs hm-publisher-core), against the
floor of any one-shot libzmq client on this machine: bench/emit_floor, linked with libzmq alone,
sending the same EMIT and waiting for its ACK."""
import argparse
import json
import os
import subprocess

from common import BUILD, HM_PUBLISHER, SPAWN, Scratch, machine, run, vm_content

FLOOR = os.path.join(BUILD, "bench", "hb-bench-emit-floor")


def wall(count, argv, stdin=None):
    cmd = [SPAWN, "wall", str(count)] + (["--stdin", stdin] if stdin else []) + list(argv)
    out = run(cmd, timeout=600).split()
    return float(out[2]), float(out[4])


def report(name, p, base, floor):
    print("RESULT %-28s p50 %.3f ms  p99 %.3f ms  over /bin/true p50 %.3f ms: ratio %.2f; over the libzmq "
          "client floor p50 %.3f ms: ratio %.2f  goal p50 <= 3 ms: %s"
          % (name, p[0], p[1], base[0], p[0] / base[0], floor[0], p[0] / floor[0], "met" if p[0] <= 3.0 else "NOT met"),
          flush=True)


def report_zmq(name, p, base, floor):
    """The same command over the ZeroMQ command endpoint: for comparison, not the goal."""
    print("RESULT %-28s p50 %.3f ms  p99 %.3f ms  over /bin/true p50 %.3f ms: ratio %.2f; over the libzmq "
          "client floor p50 %.3f ms: ratio %.2f  (zmq endpoint, through hm-publisher-core)"
          % (name, p[0], p[1], base[0], p[0] / base[0], floor[0], p[0] / floor[0]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=500)
    a = ap.parse_args()
    print("machine: " + machine())
    base = wall(a.count, ["/bin/true"])
    print("/bin/true: p50 %.3f ms  p99 %.3f ms" % base)
    scratch = Scratch(start_hem=False)
    local = "unix://%s/run/publisher.local" % scratch.dir
    scratch.pub.extra += ["--local-endpoint", local]
    with scratch as s:
        emit_argv = [HM_PUBLISHER, "emit", "state", "VM", "0", "PENDING", "LCM_INIT", "-q", "--endpoint"]
        emit = wall(a.count, emit_argv + [local])
        emit_zmq = wall(a.count, emit_argv + [s.pub.cmd_endpoint])
        floor = wall(a.count, [FLOOR, s.pub.cmd_endpoint, vm_content()])
        print("libzmq client floor (bench/emit_floor): p50 %.3f ms  p99 %.3f ms" % floor)
        report("emit", emit, base, floor)
        report_zmq("emit_zmq", emit_zmq, base, floor)
        probe = subprocess.run([HM_PUBLISHER, "oci-hook", "--help"], capture_output=True)
        if probe.returncode != 0:
            print("oci-hook: not built in this hm-publisher; skipped")
            return
        bundle = os.path.join(s.dir, "bundle")
        os.makedirs(bundle)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "hostname": "bench", "process": {"args": ["/bin/true"],
                       "user": {"uid": 0, "gid": 0}}, "root": {"path": "rootfs"}}, f)
        state = os.path.join(s.dir, "state.json")
        with open(state, "w") as f:
            json.dump({"ociVersion": "1.0.2", "id": "bench-container", "status": "creating", "pid": 1,
                       "bundle": bundle, "annotations": {"io.kubernetes.pod.namespace": "bench"}}, f)
        oci_argv = [HM_PUBLISHER, "oci-hook", "createRuntime", "--endpoint"]
        oci = wall(a.count, oci_argv + [local], stdin=state)
        oci_zmq = wall(a.count, oci_argv + [s.pub.cmd_endpoint], stdin=state)
        report("oci_hook", oci, base, floor)
        report_zmq("oci_hook_zmq", oci_zmq, base, floor)


if __name__ == "__main__":
    main()
