#!/usr/bin/env python3
"""Attribute `perf script` samples of a .NET process (DOTNET_PerfMapEnabled=1) to the assembly whose code is running,
charging the base class library, the runtime and the kernel to the nearest caller outside them ("who caused this CPU").

usage: perf_by_assembly.py FILE.script [--detail ASSEMBLY]
"""
import collections
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*)\s+\((.*)\)$")
ASSEMBLY = re.compile(r"\[([A-Za-z0-9_.]+)\] [^ ]+::")
INFRA = ("System.Private.CoreLib", "System.Runtime", "System.Collections", "System.Linq", "System.Text.Json",
         "System.Text.Encodings.Web", "System.Memory", "System.Threading", "System.Private.Uri", "System.Security.Cryptography",
         "System.Diagnostics.DiagnosticSource", "System.Collections.Concurrent", "System.Runtime.Intrinsics",
         "System.Text.RegularExpressions", "System.ComponentModel.Primitives", "System.Console", "System.Memory.Data")


def assembly_of(symbol):
    m = ASSEMBLY.search(symbol)
    if not m:
        return None
    name = m.group(1)
    return None if name.startswith(INFRA) else name


def main():
    path = sys.argv[1]
    detail = sys.argv[sys.argv.index("--detail") + 1] if "--detail" in sys.argv else None
    totals = collections.Counter()
    methods = collections.Counter()
    samples = 0
    stack = []

    def flush():
        nonlocal samples
        if not stack:
            return
        samples += 1
        owner = "(runtime, GC, JIT, kernel, BCL with no managed caller)"
        for symbol in stack:
            a = assembly_of(symbol)
            if a:
                owner = a
                if detail and a == detail:
                    methods[re.sub(r"\[[A-Za-z]*Tier[^\]]*\]|\[Optimized[^\]]*\]|\[QuickJitted\]", "", symbol)[:170]] += 1
                break
        totals[owner] += 1

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
    print(f"{samples} samples")
    for owner, n in totals.most_common(25):
        print(f"{n / samples * 100:6.2f}%  {owner}")
    if detail:
        print(f"\n{detail}: methods charged")
        for method, n in methods.most_common(30):
            print(f"{n / samples * 100:6.2f}%  {method}")


if __name__ == "__main__":
    main()
