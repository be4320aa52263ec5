#!/usr/bin/env python3
"""Summarise a dotnet-trace speedscope file (profile dotnet-sampled-thread-time): CPU time only (leaf CPU_TIME),
inclusive per frame, optionally filtered by a substring; prints the top frames with their share of all CPU time.

usage: speedscope_cpu.py FILE [--filter TEXT] [--top N] [--self]
"""
import collections
import json
import sys


def main():
    args = sys.argv[1:]
    path = args[0]
    text = args[args.index("--filter") + 1] if "--filter" in args else None
    top = int(args[args.index("--top") + 1]) if "--top" in args else 40
    self_only = "--self" in args
    data = json.load(open(path))
    names = [f["name"] for f in data["shared"]["frames"]]
    cpu_leaf = names.index("CPU_TIME")
    inclusive = collections.Counter()
    self_time = collections.Counter()
    total = 0.0
    for profile in data["profiles"]:
        stack = []
        last = None
        for event in profile["events"]:
            at = event["at"]
            if stack and last is not None and stack[-1] == cpu_leaf:
                span = at - last
                total += span
                for frame in set(stack[:-1]):
                    inclusive[frame] += span
                if len(stack) > 1:
                    self_time[stack[-2]] += span
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            else:
                stack.pop()
    table = self_time if self_only else inclusive
    print(f"total CPU {total:.0f} ms ({'self' if self_only else 'inclusive'})")
    shown = 0
    for frame, value in table.most_common():
        if text and text not in names[frame]:
            continue
        print(f"{value / total * 100:6.2f}% {value:9.0f} ms  {names[frame][:170]}")
        shown += 1
        if shown >= top:
            break


if __name__ == "__main__":
    main()
