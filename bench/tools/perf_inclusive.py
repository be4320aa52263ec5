#!/usr/bin/env python3
"""Inclusive share of an assembly in `perf script` samples of a .NET process (DOTNET_PerfMapEnabled=1): of the samples
whose stack contains FILTER (e.g. the benchmark class, to leave BenchmarkDotNet's own work out), the share with at least
one frame of ASSEMBLY anywhere on the stack, and those samples by the innermost frame of ASSEMBLY (so the CPU of the
BCL or another library called by the assembly is charged to the assembly's method that called it).

usage: perf_inclusive.py FILE.script ASSEMBLY [--filter TEXT] [--top N]
example: perf_inclusive.py sm.script Assistants.Kit --filter StreamMappingBenchmarks
"""
import collections
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*)\s+\((.*)\)$")


def main():
    args = sys.argv[1:]
    path, assembly = args[0], args[1]
    text = args[args.index("--filter") + 1] if "--filter" in args else None
    top = int(args[args.index("--top") + 1]) if "--top" in args else 20
    tag = f"[{assembly}]"
    method = re.compile(re.escape(tag) + r" ([^(]+)")
    samples = 0
    inside = 0
    innermost = collections.Counter()
    stack = []

    def flush():
        nonlocal samples, inside
        if not stack or (text and not any(text in f for f in stack)):
            return
        samples += 1
        for frame in stack:  # innermost first
            if tag in frame:
                inside += 1
                m = method.search(frame)
                innermost[re.sub(r"\+0x[0-9a-f]+$", "", m.group(1) if m else frame)[:150]] += 1
                break

    for line in open(path, errors="replace"):
        if not line.strip():
            flush()
            stack = []
            continue
        if not line.startswith((" ", "\t")):
            stack = []
            continue
        m = FRAME.match(line.rstrip("\n"))
        if m:
            stack.append(m.group(1))
    flush()

    if samples == 0:
        print("no samples")
        return
    print(f"{samples} samples{f' with {text!r} on the stack' if text else ''}; {inside / samples * 100:.2f}% with {assembly} on the stack")
    for name, n in innermost.most_common(top):
        print(f"{n / samples * 100:6.2f}%  {name}")


if __name__ == "__main__":
    main()
