#!/usr/bin/env python3
"""Latency and loss on Ethernet links, in user space, for kernels without
sch_netem (tc netem is the first choice; see netns.ts).

Each link joins two TAP devices that already exist, each in its own network
namespace. Frames from the first to the second are shaped as netem on the
first's egress would shape them: dropped with probability `loss`, otherwise
delivered after `delay` ms, uniformly +/- `jitter` ms. Unlike netem with
jitter, a link never reorders frames: a real wire does not, and reordering
would test TCP's reordering heuristics rather than the node. Frames the other
way pass unshaped, as they do past a netem qdisc.

Prints "ready" once every TAP is attached (their carrier comes up then), and
one JSON line of counters on each SIGUSR1. Ends on SIGTERM or SIGINT. With
--check it only attaches, then exits: a probe that this machine can run it.

Usage: link-emulator.py --delay-ms D --jitter-ms J --loss P [--seed S]
                        NS_A:TAP_A NS_B:TAP_B [NS_A:TAP_A NS_B:TAP_B ...]
Needs root, /dev/net/tun and named namespaces under /run/netns. Stdlib only.
"""

import argparse
import ctypes
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
MAX_FRAME = 65536

libc = ctypes.CDLL(None, use_errno=True)


def set_netns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def attach_tap(home_ns, endpoint):
    """Open the TAP named in `ns:tap`; the descriptor stays bound to it after we leave its namespace."""
    ns, tap = endpoint.split(":", 1)
    ns_fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        set_netns(ns_fd)
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI))
        return fd
    finally:
        set_netns(home_ns)
        os.close(ns_fd)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--loss", type=float, default=0.0, help="probability in [0, 1)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--check", action="store_true", help="attach every TAP, then exit")
    parser.add_argument("endpoints", nargs="+")
    args = parser.parse_args()
    if len(args.endpoints) % 2:
        parser.error("endpoints come in pairs: NS_A:TAP_A NS_B:TAP_B")

    rng = random.Random(args.seed)
    home_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    fds = [attach_tap(home_ns, endpoint) for endpoint in args.endpoints]
    if args.check:
        return
    # fd -> (where its frames go, whether they are shaped)
    routes = {}
    for a, b in zip(fds[0::2], fds[1::2]):
        routes[a] = (b, True)
        routes[b] = (a, False)

    counters = {"shaped": 0, "dropped": 0, "passed": 0, "overflowed": 0}
    in_flight = []  # heap of (due, seq, out_fd, frame)
    last_due = {}  # per shaped direction, so that frames keep their order
    seq = 0

    def stop(*_):
        # Raising is what ends a blocking select(): PEP 475 retries it after a handler that returns.
        sys.exit(0)

    def report(*_):
        print(json.dumps(counters), flush=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, report)

    def deliver(out_fd, frame):
        try:
            os.write(out_fd, frame)
        except (BlockingIOError, OSError):
            # The receiving TAP's queue is full (or it went down): a real link drops too.
            counters["overflowed"] += 1

    print("ready", flush=True)
    while True:
        timeout = max(0.0, in_flight[0][0] - time.monotonic()) if in_flight else None
        readable, _, _ = select.select(list(routes), [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            out_fd, shaped = routes[fd]
            while True:
                try:
                    frame = os.read(fd, MAX_FRAME)
                except OSError:
                    # Nothing queued (EAGAIN), or the device is down (EIO): try again after select.
                    break
                if not shaped:
                    counters["passed"] += 1
                    deliver(out_fd, frame)
                    continue
                counters["shaped"] += 1
                if rng.random() < args.loss:
                    counters["dropped"] += 1
                    continue
                delay = (args.delay_ms + rng.uniform(-args.jitter_ms, args.jitter_ms)) / 1000
                due = max(now + delay, last_due.get(fd, 0.0))
                last_due[fd] = due
                heapq.heappush(in_flight, (due, seq, out_fd, frame))
                seq += 1
        now = time.monotonic()
        while in_flight and in_flight[0][0] <= now:
            _, _, out_fd, frame = heapq.heappop(in_flight)
            deliver(out_fd, frame)


if __name__ == "__main__":
    main()
