#!/usr/bin/python3
"""blocking.py -- benchmark 8: the wall time that a blocking allow-hook adds to `runc run` of a busybox
container whose createRuntime hook is `hm-publisher oci-hook --wait` (EMIT, ACK, hem runs the BLOCKING
CONTAINER/CREATE_RUNTIME hook /bin/true, VERDICT allow), over `runc run` of the same bundle without any
hook, both measured in the same run, alternately. The hook runs over ZeroMQ (the publisher's command
endpoint, hem's control endpoint: hm-publisher-core) and over the two daemons' local sockets
(unix://: the launcher alone). Also printed: the same hook without --wait (the event only) over
each path, and what --wait adds over it (the VERDICT round trip and the blocking hook's run). Goal:
under 10 ms added at p50. Needs root, runc and busybox-static."""
import argparse
import json
import os
import shutil
import subprocess
import time

from common import HM_PUBLISHER, Scratch, machine, percentile


def make_bundle(d, name):
    """A busybox bundle in d/name whose process runs /bin/true; returns (path, its config)."""
    bundle = os.path.join(d, name)
    rootfs = os.path.join(bundle, "rootfs")
    for sub in ("bin", "proc", "dev", "sys", "tmp"):
        os.makedirs(os.path.join(rootfs, sub))
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    os.symlink("busybox", os.path.join(rootfs, "bin", "true"))
    subprocess.run(["runc", "spec"], cwd=bundle, check=True, capture_output=True, timeout=30)
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    return bundle, config


def write_config(bundle, config, hooks):
    c = dict(config, hooks=hooks) if hooks else dict(config)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(c, f)


def run_once(root, bundle, cid):
    """Wall time of one `runc run` (ms); the container must succeed."""
    t = time.perf_counter()
    r = subprocess.run(["runc", "--root", root, "run", "-b", bundle, cid], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    ms = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        raise RuntimeError("runc run %s failed: %s" % (cid, r.stderr))
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=100)
    a = ap.parse_args()
    if os.geteuid() != 0 or shutil.which("runc") is None or not os.path.exists("/bin/busybox"):
        print("blocking: needs root, runc and busybox-static; skipped")
        return
    print("machine: " + machine())
    with Scratch() as s:
        # The publisher also listens on a local socket: the production path of a container's hook.
        local = "unix://%s/publisher.local" % s.dir
        s.pub.stop()
        s.pub.extra += ["--local-endpoint", local]
        s.pub.start()
        hem_local = "unix://%s/hem.local" % s.dir
        s.hem.stop()
        s.hem.extra += ["--local-endpoint", hem_local]
        s.hem.start()
        s.hem.allocate("NAME = allow\nTYPE = state\nRESOURCE = CONTAINER\nON = CUSTOM\nSTATE = CREATE_RUNTIME\n"
                       "COMMAND = /bin/true\nBLOCKING = yes\nLOG_RETENTION = 1000000\n")
        root = os.path.join(s.dir, "runc-root")
        exe = os.path.realpath(HM_PUBLISHER)
        common = ["--endpoint", s.pub.cmd_endpoint, "--timeout", "10000", "--fail-closed"]
        bundles = {}
        for name, hooks in (
                ("none", None),
                ("event", {"createRuntime": [{"path": exe, "args": ["hm-publisher", "oci-hook", "createRuntime"]
                                              + common}]}),
                ("event_local", {"createRuntime": [{"path": exe, "args": ["hm-publisher", "oci-hook", "createRuntime",
                                                                          "--endpoint", local, "--timeout", "10000",
                                                                          "--fail-closed"]}]}),
                ("blocking", {"createRuntime": [{"path": exe, "args": ["hm-publisher", "oci-hook", "createRuntime"]
                                                 + common + ["--wait", "--hem-endpoint", s.hem.control_endpoint]}]}),
                ("blocking_local", {"createRuntime": [{"path": exe, "args": ["hm-publisher", "oci-hook",
                                                                             "createRuntime", "--endpoint", local,
                                                                             "--timeout", "10000", "--fail-closed",
                                                                             "--wait", "--hem-endpoint",
                                                                             hem_local]}]})):
            bundle, config = make_bundle(s.dir, name)
            write_config(bundle, config, hooks)
            bundles[name] = bundle
        times = {name: [] for name in bundles}
        for i in range(a.count + 3):
            for name, bundle in bundles.items():
                ms = run_once(root, bundle, "hb-bench-%d-%s-%d" % (os.getpid(), name, i))
                if i >= 3:   # the first runs warm the page cache
                    times[name].append(ms)
        allowed = s.hem.db("SELECT count(*) FROM hook_exec WHERE verdict = 'allow'")[0][0]
        if allowed < 2 * a.count:
            raise RuntimeError("only %d allow verdicts recorded for %d containers" % (allowed, 2 * a.count))
    base = percentile(times["none"], 0.5)
    for name in ("event", "event_local", "blocking", "blocking_local"):
        p50, p99 = percentile(times[name], 0.5), percentile(times[name], 0.99)
        added = p50 - base
        print("RESULT %-28s p50 %.2f ms  p99 %.2f ms  over runc run without hook p50 %.2f ms: ratio %.3f  "
              "added p50 %.2f ms%s" % ("runc_run_" + name, p50, p99, base, p50 / base, added,
                                       "  goal added p50 < 10 ms: %s" % ("met" if added < 10 else "NOT met")
                                       if name.startswith("blocking") else
                                       "  (local socket: the launcher's fast path)" if name == "event_local" else ""),
              flush=True)
    for path in ("", "_local"):
        event, blocking = percentile(times["event" + path], 0.5), percentile(times["blocking" + path], 0.5)
        print("RESULT %-28s p50 %.2f ms  over the same hook without --wait p50 %.2f ms: ratio %.3f  added p50 "
              "%.2f ms" % ("wait_over_event" + path, blocking, event, blocking / event, blocking - event), flush=True)


if __name__ == "__main__":
    main()
