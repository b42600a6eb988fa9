"""common.py -- what the bench/ drivers share: the built programs, daemons in a scratch directory
(tests/e2e/harness.py's Publisher and Hem), emitting, percentiles and the ratio line."""
import ctypes
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("HB_BUILD_DIR", os.path.join(HERE, "..", "build"))
os.environ.setdefault("HB_SOURCE_DIR", os.path.join(HERE, ".."))

from harness import BUILD, HM_PUBLISHER, Hem, Publisher, api_xml, b64, vm_xml, wait_for  # noqa: E402,F401

STAMP = os.path.join(BUILD, "bench", "hb-bench-stamp")
SPAWN = os.path.join(BUILD, "bench", "hb-bench-spawn")
INGEST = os.path.join(BUILD, "bench", "hb-bench-ingest")
PACE = os.path.join(BUILD, "bench", "hb-bench-pace")
HOOKCTL = os.path.join(BUILD, "cli", "hookctl")


def machine():
    """One line naming the machine the figures come from."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count() or 0, platform.platform())


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]


def ratio(name, value, baseline, goal=None, higher_is_better=True):
    """Prints the result line every benchmark ends with: value, baseline and their ratio."""
    r = value / baseline if baseline else float("inf")
    verdict = ""
    if goal is not None:
        ok = r >= goal if higher_is_better else r <= goal
        verdict = "  goal %s %.2f: %s" % (">=" if higher_is_better else "<=", goal, "met" if ok else "NOT met")
    print("RESULT %-28s %12.2f / baseline %12.2f = ratio %.3f%s" % (name, value, baseline, r, verdict), flush=True)
    return r


class Scratch:
    """A temporary directory with a publisher and (optionally) a hem, stopped on exit."""

    def __init__(self, hem_extra=(), pub_extra=(), start_hem=True):
        self.dir = tempfile.mkdtemp(prefix="hookbus-bench-")
        level = ["--debug-level", os.environ.get("HB_BENCH_DEBUG_LEVEL", "1")]
        self.pub = Publisher(self.dir, level + list(pub_extra))
        self.hem_extra = level + list(hem_extra)
        self.hem = None
        self.start_hem = start_hem

    def __enter__(self):
        self.pub.start()
        self.hem = Hem(self.dir, self.pub, self.hem_extra)
        if self.start_hem:
            self.hem.start()
        return self

    def __exit__(self, *exc):
        for d in (self.hem, self.pub):
            if d is not None:
                try:
                    d.stop()
                except Exception:  # a benchmark's clean-up must not hide its result
                    d.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def quiet(argv):
    """Removes harness's --debug-level 3 so that logging does not weigh on the figures."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--debug-level":
            skip = True
            continue
        out.append(a)
    return out


# The harness logs at debug level for the tests; benchmarks run at level 1 (warnings).
_pub_argv, _hem_argv = Publisher.argv, Hem.argv
Publisher.argv = lambda self: quiet(_pub_argv(self)) + ["--debug-level", "1"]
Hem.argv = lambda self: quiet(_hem_argv(self)) + ["--debug-level", "1"]


def emit_many(endpoint, contents, clients=4):
    """EMITs every content (base64 strings) over `clients` pipelined DEALER sockets; returns the
    list of (seq, ack time in ns) in the order the acks arrived."""
    import zmq
    ctx = zmq.Context.instance()
    socks = []
    for _ in range(clients):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        socks.append(s)
    acks = []
    window = 64
    sent = [0] * clients
    got = [0] * clients
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    it = iter(contents)
    pending = True
    while pending or any(sent[i] > got[i] for i in range(clients)):
        for i, s in enumerate(socks):
            while pending and sent[i] - got[i] < window:
                c = next(it, None)
                if c is None:
                    pending = False
                    break
                s.send_multipart([b"", b"EMIT", c.encode() if isinstance(c, str) else c])
                sent[i] += 1
        for s, _ in poller.poll(1000):
            i = socks.index(s)
            while True:
                try:
                    frames = s.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                got[i] += 1
                reply = frames[-1].decode()
                if not reply.startswith("ACK "):
                    raise RuntimeError("EMIT refused: " + reply)
                acks.append((int(reply[4:]), time.time_ns()))
    for s in socks:
        s.close()
    return acks


def in_turns(i, base_fn, fn):
    """(base_fn(), fn()), run in that order on even turns i and the other way round on odd ones, so
    that neither side of an alternating comparison always runs first (after the other's clean-up,
    on a warmer or colder cache)."""
    if i % 2:
        measured = fn()
        return base_fn(), measured
    return base_fn(), fn()


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def wait_done(cond, timeout, what):
    """wait_for() for the end of a measured run: polls four times a second, so that the benchmark's
    own queries of hem.db take next to no CPU from the daemons and hooks it measures (at the
    harness's 50 polls a second they took about 6% of the machine)."""
    return wait_for(cond, timeout=timeout, what=what, interval=0.25)


def api_content(call="one.bench.dispatch"):
    return b64(api_xml(call))


def vm_content():
    return b64(vm_xml())


def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def spawn_rate(concurrency, count, argv, cpu=None):
    """The raw spawn-and-reap rate of argv (bench/spawn_probe); with cpu (a dict), also the CPU
    time per run of the probe and its children together, in ms, as cpu["raw_ms"]."""
    import resource
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = run([SPAWN, "rate", str(concurrency), str(count)] + list(argv))
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        used = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        cpu["raw_ms"] = used * 1000.0 / count
    return float(out.split()[1])


LIBC = ctypes.CDLL(None, use_errno=True)


def proc_cpu_s(pid):
    """CPU seconds of process pid itself (all its threads) and of its reaped children: (self,
    children). The first comes from the process's CPU-time clock (clock_getcpuclockid(3)), to the
    nanosecond; /proc only counts whole clock ticks (10 ms), which a short run can round to
    nothing. The children's time is known only from /proc."""
    clock = ctypes.c_int()
    err = LIBC.clock_getcpuclockid(pid, ctypes.byref(clock))
    if err:
        raise OSError(err, "clock_getcpuclockid(%d): %s" % (pid, os.strerror(err)))
    own = time.clock_gettime(clock.value)
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cut, cst = (int(x) for x in fields[13:15])
    return own, (cut + cst) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
