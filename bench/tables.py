#!/usr/bin/env python3
"""The markdown tables of the bench scripts, built from `kvorum bench --json`
reports (and, for the sweep, the facts the script measured around them).

    tables.py compare DIR     DIR holds NAME-WORKLOAD-CONNECTIONS.json
                              (bench/compare.sh): one row per run with the
                              Kvorum/peer ratios (HTTP, and the binary
                              protocol when kvorum+binary ran), Kvorum with
                              --durability fsync beside etcd (both fsync),
                              the goals of issues 6 and 15
    tables.py sweep DIR...    each DIR one record count (bench/sweep.sh):
                              W-16.json (the run that loaded the records),
                              C-16.json and facts.json ({"rss_kib": [one per
                              node], "disk_bytes": N, "restart_seconds": S,
                              "crash_restart_seconds": S after kill -9});
                              one row per DIR, in the order given
    tables.py pair DIR A LABEL-A B LABEL-B
                              DIR holds A-W-1.json … B-C-16.json (bench/tls.sh,
                              bench/protocols.sh): W and C at 1 and 16
                              connections, A beside B, with B/A
    tables.py instructions RAW
                              RAW is bench/instructions.sh's tab-separated
                              counts (a header, then repeat, workload,
                              connections, operations, instructions (or
                              cpu_us, CPU microseconds), seconds,
                              write_bytes, wchar; workload "idle" for the
                              baseline of each repeat): per workload and
                              connections, the count per operation in each
                              repeat, their median and spread, and bytes
                              written per operation
"""
import glob
import json
import os
import statistics
import sys


def load_runs(directory):
    """The reports of DIR by (name, workload, connections)."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        name, workload, connections = os.path.basename(path)[:-5].rsplit("-", 2)
        with open(path) as handle:
            runs[(name, workload, int(connections))] = json.load(handle)
    return runs


def errors(report):
    return sum(report["errors"].values())


def by_kind(counts):
    """Error counts as "kind count, ..." in the kinds' order."""
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))


def compare(directory):
    runs = load_runs(directory)
    binary = any(key[0] == "kvorum+binary" for key in runs)
    lines = [
        "| target | workload | connections | ops/s | p50 ms | p99 ms | errors | Kvorum/peer |"
        + (" Kvorum binary/peer |" if binary else ""),
        "|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if binary else ""),
    ]
    order = ["kvorum", "kvorum+binary", "kvorum+fsync", "redis+wait", "redis", "etcd"]
    ours = ("kvorum", "kvorum+binary", "kvorum+fsync")
    compared = ["kvorum", "kvorum+binary"] if binary else ["kvorum"]
    for workload in ["W", "C"]:
        for connections in [1, 16]:
            mine = [runs.get((name, workload, connections)) for name in compared]
            for name in order:
                report = runs.get((name, workload, connections))
                if report is None:
                    continue
                ratios = ["" for _ in mine]
                if name not in ours and report["throughput"] > 0:
                    ratios = [f"{m['throughput'] / report['throughput']:.2f}" if m else "" for m in mine]
                latency = report["latency"]["all"]
                lines.append(
                    f"| {name} | {workload} | {connections} | {report['throughput']:.0f} | "
                    f"{latency['p50']:.3f} | {latency['p99']:.3f} | {errors(report)} | "
                    + " | ".join(ratios)
                    + " |"
                )

    def ops(name, workload, connections):
        report = runs.get((name, workload, connections))
        return report["throughput"] if report else None

    if any(key[0] == "kvorum+fsync" for key in runs):
        lines += [
            "",
            "## Both fsync: Kvorum `--durability fsync` vs etcd put",
            "",
            "| connections | Kvorum fsync ops/s | p99 ms | etcd ops/s | p99 ms | Kvorum/etcd |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for connections in [1, 16]:
            mine = runs.get(("kvorum+fsync", "W", connections))
            peer = runs.get(("etcd", "W", connections))
            if mine is None:
                continue
            cells = [f"{mine['throughput']:.0f}", f"{mine['latency']['all']['p99']:.3f}"]
            if peer:
                cells += [f"{peer['throughput']:.0f}", f"{peer['latency']['all']['p99']:.3f}"]
                cells.append(f"{mine['throughput'] / peer['throughput']:.2f}" if peer["throughput"] > 0 else "")
            else:
                cells += ["not measured", "", ""]
            lines.append(f"| {connections} | " + " | ".join(cells) + " |")

    def ratio_row(goal, mine, peer, target, label):
        if mine is None or not peer:
            lines.append(f"| {goal} | not measured | | |")
            return
        value = mine / peer
        lines.append(
            f"| {goal} | {mine:,.0f} vs {peer:,.0f} ops/s ({label}) | {value:.2f} | {'yes' if value >= target else 'no'} |"
        )

    lines += [
        "",
        "## Against the goals of issue 6",
        "",
        "| goal | measured | ratio | met |",
        "|---|---|---:|---|",
    ]
    ratio_row("quorum writes, c=16, >= 0.5 x Redis SET+WAIT 1", ops("kvorum", "W", 16), ops("redis+wait", "W", 16), 0.5, "Kvorum vs Redis+WAIT")
    ratio_row("quorum writes, c=16, >= 5 x etcd put", ops("kvorum", "W", 16), ops("etcd", "W", 16), 5, "Kvorum vs etcd")
    ratio_row("quorum reads, c=16, >= 0.5 x Redis GET", ops("kvorum", "C", 16), ops("redis", "C", 16), 0.5, "Kvorum vs Redis")
    single = runs.get(("kvorum", "W", 1))
    if single:
        latency = single["latency"]["all"]
        lines.append(f"| single-client quorum write p50 <= 0.3 ms | {latency['p50']:.3f} ms | | {'yes' if latency['p50'] <= 0.3 else 'no'} |")
        lines.append(f"| single-client quorum write p99 <= 1 ms | {latency['p99']:.3f} ms | | {'yes' if latency['p99'] <= 1 else 'no'} |")

    lines += [
        "",
        "## Against the goals of issue 15",
        "",
        "| goal | measured | ratio | met |",
        "|---|---|---:|---|",
    ]
    for name in compared:
        protocol = {"kvorum": "HTTP", "kvorum+binary": "binary protocol"}[name]
        for goal, workload, peer, target, label in [
            ("quorum writes, c=16, >= 0.5 x Redis SET+WAIT 1", "W", "redis+wait", 0.5, "Redis+WAIT"),
            ("quorum writes, c=16, >= 5 x etcd put", "W", "etcd", 5, "etcd"),
            ("quorum reads, c=16, >= 0.4 x Redis GET", "C", "redis", 0.4, "Redis"),
        ]:
            ratio_row(
                f"{goal} ({protocol})", ops(name, workload, 16), ops(peer, workload, 16), target,
                f"Kvorum {protocol} vs {label}")
        single = runs.get((name, "W", 1))
        if single:
            latency = single["latency"]["all"]
            for percentile, label, bound in [("p50", "p50", 0.25), ("p99", "p99", 0.5), ("p999", "p99.9", 1.5)]:
                value = latency[percentile]
                lines.append(
                    f"| single-client quorum write {label} <= {bound} ms ({protocol}) | {value:.3f} ms | | "
                    f"{'yes' if value <= bound else 'no'} |"
                )
    return lines


def size(kib):
    """KiB as MiB or GiB, three significant figures at most."""
    mib = kib / 1024
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.1f} MiB"


def run_cell(report):
    """ops/s and p99 of a measured run, with its errors by kind if any."""
    cell = f"{report['throughput']:,.0f}, {report['latency']['all']['p99']:.2f} ms"
    if not errors(report):
        return cell
    return cell + f" ({errors(report)} errors: {by_kind(report['errors'])})"


def sweep(directories):
    lines = [
        "| records | load ops/s (start → end) | W c=16 ops/s, p99 | C c=16 ops/s, p99 | RSS per node | disk, 3 nodes "
        "| cluster restart until a GET works | after kill -9 |",
        "|---:|---|---|---|---|---:|---:|---:|",
    ]
    for directory in directories:
        with open(os.path.join(directory, "W-16.json")) as handle:
            write = json.load(handle)
        with open(os.path.join(directory, "C-16.json")) as handle:
            read = json.load(handle)
        with open(os.path.join(directory, "facts.json")) as handle:
            facts = json.load(handle)
        load = f"{write['records'] / write['loadSeconds']:,.0f}" if write.get("loadSeconds") else "not loaded"
        tenths = write.get("loadTenths")
        if tenths:
            load += f" ({tenths[0]:,.0f} → {tenths[-1]:,.0f})"
        if write.get("loadErrors"):
            kinds = write.get("loadErrorKinds") or {}
            detail = ": " + by_kind(kinds) if kinds else ""
            load += f", {write['loadErrors']} errors{detail}"
        rss = sorted(facts["rss_kib"])
        rss_cell = size(rss[0]) if size(rss[0]) == size(rss[-1]) else f"{size(rss[0])} – {size(rss[-1])}"
        restarts = []
        for name in ("restart_seconds", "crash_restart_seconds"):
            seconds = facts.get(name)
            restarts.append(f"{seconds:.2f} s" if seconds is not None else "did not answer")
        lines.append(
            f"| {write['records']:,} | {load} | {run_cell(write)} | {run_cell(read)} | {rss_cell} | "
            f"{size(facts['disk_bytes'] / 1024)} | {restarts[0]} | {restarts[1]} |"
        )
    return lines


def per_operation(raw_path):
    """{(workload, connections): [(count, write_bytes, wchar) per operation,
    one per repeat]}, the idle count per second of each repeat, and the
    count's unit (the fifth column: instructions or cpu_us), from the counts
    of a run of N and of 2N operations: each count less the idle rate times
    its length, the difference over the extra operations."""
    counts = {}
    with open(raw_path) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        unit = header[4]
        for line in handle:
            if not line.strip():
                continue
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            key = (int(row["repeat"]), row["workload"], int(row["connections"]), int(row["operations"]))
            counts[key] = tuple(float(row[name]) for name in (unit, "seconds", "write_bytes", "wchar"))
    idle = {key[0]: value for key, value in counts.items() if key[1] == "idle"}
    rates = {repeat: [total / max(value[1], 1e-9) for total in (value[0], value[2], value[3])] for repeat, value in idle.items()}
    runs = {}
    for (repeat, workload, connections, operations), value in counts.items():
        if workload != "idle":
            runs.setdefault((workload, connections, repeat), []).append((operations, value))
    results = {}
    for (workload, connections, repeat), pair in sorted(runs.items()):
        if len(pair) != 2:
            continue
        (short, first), (long, second) = sorted(pair)
        rate = rates.get(repeat, [0, 0, 0])
        figures = []
        for index, column in enumerate((0, 2, 3)):
            net_short = first[column] - rate[index] * first[1]
            net_long = second[column] - rate[index] * second[1]
            figures.append((net_long - net_short) / (long - short))
        results.setdefault((workload, connections), []).append(tuple(figures))
    return results, {repeat: rate[0] for repeat, rate in sorted(rates.items())}, unit


def instructions(raw_path):
    results, idle, unit = per_operation(raw_path)
    name, places = {"instructions": ("instructions", 0), "cpu_us": ("CPU µs", 1)}[unit]
    lines = [
        f"| workload | connections | {name}/op, each repeat | median | spread (max − min) / median | write_bytes/op | wchar/op |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    names = {"W": "W (quorum write)", "C": "C (quorum read)"}
    for workload in ["W", "C"]:
        for connections in [1, 16]:
            figures = results.get((workload, connections))
            if not figures:
                continue
            counts = [figure[0] for figure in figures]
            median = statistics.median(counts)
            spread = (max(counts) - min(counts)) / median if median else 0
            lines.append(
                f"| {names[workload]} | {connections} | {', '.join(f'{count:,.{places}f}' for count in counts)} | "
                f"{median:,.{places}f} | {spread:.1%} | {statistics.median(f[1] for f in figures):,.0f} | "
                f"{statistics.median(f[2] for f in figures):,.0f} |"
            )
    lines += ["", f"Idle baseline, {name} per second of the three nodes: "
              + ", ".join(f"{rate:,.0f}" for rate in idle.values()) + " (one per repeat)."]
    return lines


def pair(directory, a, label_a, b, label_b):
    """One row per workload and connection count that both A and B ran."""
    runs = load_runs(directory)
    lines = [
        f"| workload | connections | {label_a} ops/s | {label_b} ops/s | {label_b}/{label_a} "
        f"| {label_a} p50 / p99 ms | {label_b} p50 / p99 ms | errors |",
        "|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for workload in ["W", "C"]:
        for c in [1, 16]:
            x, y = runs.get((a, workload, c)), runs.get((b, workload, c))
            if not x or not y:
                continue
            xl, yl = x["latency"]["all"], y["latency"]["all"]
            lines.append(
                f"| {workload} | {c} | {x['throughput']:.0f} | {y['throughput']:.0f} "
                f"| {y['throughput'] / x['throughput']:.2f} | {xl['p50']:.3f} / {xl['p99']:.3f} "
                f"| {yl['p50']:.3f} / {yl['p99']:.3f} | {errors(x) + errors(y)} |")
    return lines


def main(arguments):
    if len(arguments) >= 2 and arguments[0] == "compare":
        lines = compare(arguments[1])
    elif len(arguments) == 6 and arguments[0] == "pair":
        lines = pair(*arguments[1:])
    elif len(arguments) == 2 and arguments[0] == "instructions":
        lines = instructions(arguments[1])
    elif len(arguments) >= 2 and arguments[0] == "sweep":
        lines = sweep(arguments[1:])
    else:
        sys.stderr.write(__doc__)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
