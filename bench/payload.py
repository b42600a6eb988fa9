#!/usr/bin/python3
"""payload.py -- dispatch (as dispatch.py: events journaled while hem is down, then replayed;
/bin/true; concurrency 8) of a hook with ARGUMENTS = $API whose events carry a parameter of N
bytes, so that each execution's argument is the base64 of a document of N bytes and more, over
the same dispatch with a parameter of 4 bytes. OpenNebula's hooks take $TEMPLATE, a VM's
document of some kilobytes: what hem does per execution must not grow with it beyond the
exec's own copy. Goal: flat (the ratio may not fall as N grows).

Then the same dispatch of a hook whose COMMAND is relative, ft/true under HOOK_BASE_PATH (as
OpenNebula's ft/host_error.rb under its remotes/hooks), over the same copy of /bin/true named
by its absolute path: hem checks at every start that a relative COMMAND stays beneath
HOOK_BASE_PATH. Goal: flat (ratio 1)."""
import argparse
import os
import shutil

from common import api_xml, b64, machine
from dispatch import hookbus_rate, rate_pairs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4096,16384", help="comma-separated parameter sizes in bytes")
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=1,
                    help="baseline and measured run this many times per size (and for the command), alternating")
    a = ap.parse_args()
    print("machine: " + machine())
    template = "ARGUMENTS = $API\n"
    small = b64(api_xml("one.bench.dispatch", 1, ("x" * 4,)))
    for size in [int(n) for n in a.sizes.split(",")]:
        big = b64(api_xml("one.bench.dispatch", 1, ("x" * size,)))
        rate_pairs("dispatch_parameter_%d_bytes" % size, a.repeat,
                   lambda cpu: hookbus_rate(a.events, 8, cpu=cpu, template=template, content=small),
                   lambda cpu: hookbus_rate(a.events, 8, cpu=cpu, template=template, content=big))
    rate_pairs("dispatch_relative_command", a.repeat,
               lambda cpu: command_rate(a.events, cpu, relative=False),
               lambda cpu: command_rate(a.events, cpu, relative=True))


def command_rate(events, cpu, relative):
    """hookbus_rate() of a copy of /bin/true at ft/true under hem's HOOK_BASE_PATH, named by its
    COMMAND relative or absolute. hem checks the file only when it starts the hook, after the
    copy is made."""
    def place(s):
        os.makedirs(os.path.join(s.hem.hook_base_path, "ft"), mode=0o755)
        shutil.copy("/bin/true", os.path.join(s.hem.hook_base_path, "ft", "true"))

    command = "ft/true" if relative else (lambda s: os.path.join(s.hem.hook_base_path, "ft", "true"))
    return hookbus_rate(events, 8, cpu=cpu, command=command, prepare=place)


if __name__ == "__main__":
    main()
