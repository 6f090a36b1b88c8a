#!/usr/bin/env python3
"""Where a BPF program's time goes, from `perf script -F comm,ip,sym` output
(call chains, leaf first) on stdin.

Every sample whose call chain passes through one of the programs named by
--prog (a substring of the JIT symbol, e.g. "bh_xdp_") is attributed to what
the program was doing: its own instructions, or the kernel function it had
called (a helper or map operation, with everything that function called).
Samples outside the programs are counted apart.

Prints one line per part: share of the program's samples and, with
--ns-per-packet (the program's measured cost per packet), the nanoseconds
of that cost, or with --ns-per-sample (sampling period over packets, for a
system-wide profile of real traffic), each part's samples times that.
The last line is JSON: {"<prefix>_<part>_ns": ...}.

With --lines FILE (bench_prog --lines: the profiled program's source lines
by JIT address, from the same load), each part also says where in the
program it was spent: the source line of the program's own instruction, or
of the call whose return address is one frame up (the call is the
instruction before it). Needs the ip field in the perf script output.
"""
import bisect
import argparse
import json
import re
import sys

# Helpers and map operations a program calls, by the kernel function the
# JIT calls; anything not listed keeps its own name.
PARTS = [
    (re.compile(r"^htab_lru_map_update_elem|^bpf_lru_|^htab_lru_"), "conntrack/rate-limit insert (LRU hash update)"),
    (re.compile(r"^__htab_map_lookup_elem|^lookup_nulls_elem_raw|^htab_map_hash|^htab_.*lookup"), "hash lookups"),
    (re.compile(r"^trie_lookup_elem|^longest_prefix_match"), "LPM lookups (ipcache, policy)"),
    (re.compile(r"^bpf_ringbuf_(reserve|submit|output|commit)|^__bpf_ringbuf_reserve|^bpf_ringbuf_notify|^irq_work"), "flow record (ring buffer)"),
    (re.compile(r"^bpf_ringbuf_query"), "ring buffer fill level query"),
    (re.compile(r"^bpf_ktime_get|^ktime_get|^read_tsc|^bpf_jiffies"), "clock reads"),
    (re.compile(r"^bpf_skb_load_bytes|^bpf_xdp_load_bytes|^skb_copy_bits|^bpf_xdp_copy"), "header copies (load_bytes)"),
    (re.compile(r"^bpf_skb_pull_data|^__pskb_pull_tail|^pskb_expand_head"), "header pull"),
    (re.compile(r"^percpu_array_map_lookup|^array_map_lookup"), "array lookups (not inlined)"),
]


def part_of(sym):
    for rx, name in PARTS:
        if rx.search(sym):
            return name
    return sym


IDLE = re.compile(r"safe_halt|default_idle|cpuidle|mwait|poll_idle|do_idle")


def samples(stream):
    """Each sample's frames, leaf first, as (symbol, address or None)."""
    frames = []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield frames
            frames = []
            continue
        if line.startswith("\t") or line.startswith(" " * 8):
            parts = line.split(None, 1)
            sym = parts[1] if len(parts) > 1 else "[unknown]"
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            try:
                ip = int(parts[0], 16)
            except ValueError:
                ip = None
            frames.append((sym.split(" (")[0], ip))
        # else: the sample's header line (comm)
    if frames:
        yield frames


class Lines:
    """A program's source line by JIT address (bench_prog --lines)."""

    def __init__(self, path):
        rows = []
        with open(path) as f:
            for row in f:
                addr, _, rest = row.rstrip("\n").partition(" ")
                where, _, src = rest.partition(" ")
                rows.append((int(addr, 16), "%s %s" % (where, src.strip()[:50])))
        rows.sort()
        self.addrs = [a for a, _ in rows]
        self.where = [w for _, w in rows]

    def at(self, ip):
        i = bisect.bisect_right(self.addrs, ip) - 1
        return self.where[i] if i >= 0 else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True,
                    help="substrings of the programs' JIT symbols, comma-separated")
    ap.add_argument("--ns-per-packet", type=float, default=None)
    ap.add_argument("--ns-per-sample", type=float, default=None)
    ap.add_argument("--prefix", default="where")
    ap.add_argument("--per", default="packet",
                    help="what --ns-per-sample counts: packet or connection")
    ap.add_argument("--min-share", type=float, default=0.01)
    ap.add_argument("--lines", default=None,
                    help="the program's line table (bench_prog --lines), for call sites")
    a = ap.parse_args()
    progs = [p for p in a.prog.split(",") if p]
    lines = Lines(a.lines) if a.lines else None
    sites = {}

    counts = {}
    in_prog = outside = idle = 0
    for chain in samples(sys.stdin):
        frames = [f for f, _ in chain]
        if a.ns_per_sample and any(f.startswith("bpf_prog_test_run") for f in frames):
            # a system-wide profile of real traffic: test runs of the same
            # programs (other jobs' tests on this machine) are not traffic
            outside += 1
            continue
        if IDLE.search(frames[0]):
            idle += 1
        idx = next((i for i, f in enumerate(frames)
                    if f.startswith("bpf_prog_") and any(p in f for p in progs)), None)
        if idx is None:
            outside += 1
            continue
        in_prog += 1
        # the innermost program frame: the program's own code, or the
        # kernel function it called (frames[first - 1])
        first = next(i for i, f in enumerate(frames) if f.startswith("bpf_prog_"))
        if first == 0:
            name = "program code (%s)" % re.sub(r"^bpf_prog_[0-9a-f]+_", "", frames[0])
        else:
            name = part_of(frames[first - 1])
        counts[name] = counts.get(name, 0) + 1
        ip = chain[first][1]
        if lines and ip is not None:
            # a return address is the instruction after the call
            site = (name, lines.at(ip if first == 0 else ip - 1))
            sites[site] = sites.get(site, 0) + 1

    out = {}
    if not in_prog and a.ns_per_sample:
        busy = (outside - idle) * a.ns_per_sample
        print("    %-52s         %6.1f ns" % ("every CPU, not idle, per " + a.per, busy))
        out["%s_busy_ns" % a.prefix] = round(busy, 3)
        print(json.dumps(out))
        return 0
    if not in_prog:
        print("  no samples inside programs matching %r (%d samples outside)" % (a.prog, outside))
        print(json.dumps(out))
        return 1
    print("  %d samples inside the programs, %d outside" % (in_prog, outside))
    if a.ns_per_sample:
        busy = (in_prog + outside - idle) * a.ns_per_sample
        print("    %-52s         %6.1f ns" % ("every CPU, not idle, per " + a.per, busy))
        out["%s_busy_ns" % a.prefix] = round(busy, 3)
        a.ns_per_packet = in_prog * a.ns_per_sample
        print("    %-52s %5.1f %%  %6.1f ns" % ("all of the programs, per " + a.per, 100.0,
                                              a.ns_per_packet))
        out["%s_total_ns" % a.prefix] = round(a.ns_per_packet, 3)
    rest = 0
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        share = n / in_prog
        if share < a.min_share:
            rest += n
            continue
        ns = share * a.ns_per_packet if a.ns_per_packet else None
        print("    %-52s %5.1f %%%s" % (name, 100 * share, "  %6.1f ns" % ns if ns is not None else ""))
        for (part, where), k in sorted(sites.items(), key=lambda kv: -kv[1]):
            if part == name and k / in_prog >= a.min_share:
                print("      %5.1f %%  at %s" % (100 * k / in_prog, where))
        key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        out["%s_%s_%s" % (a.prefix, key, "ns" if ns is not None else "share")] = round(
            ns if ns is not None else share, 3)
    if rest:
        share = rest / in_prog
        print("    %-52s %5.1f %%%s" % ("(each under %.0f %%)" % (100 * a.min_share), 100 * share,
                                        "  %6.1f ns" % (share * a.ns_per_packet)
                                        if a.ns_per_packet else ""))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
