using Assistants.Kit.Benchmarks.Poller;
using Assistants.Kit.Benchmarks.Scale;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// Benchmarks (BenchmarkDotNet, Release):
//   dotnet run -c Release --project bench/Assistants.Kit.Benchmarks -- --filter '*' --job short
// Console modes (no BenchmarkDotNet):
//   dotnet run -c Release --project bench/Assistants.Kit.Benchmarks -- poller    the virtual-time poller simulation
//   dotnet run -c Release --project bench/Assistants.Kit.Benchmarks -- scale     1,000 concurrent conversations, kit and raw
// See docs/benchmarks.md.
switch (args.FirstOrDefault())
{
    case "poller":
        return PollerReport.Run(args[1..]);
    case "scale":
        return await ScaleRunner.RunAsync(args[1..]).ConfigureAwait(false);
    case "alloc":
        return await Assistants.Kit.Benchmarks.Diagnostics.ClientAllocations.RunAsync(args[1..]).ConfigureAwait(false);
    case Assistants.Kit.Benchmarks.Diagnostics.EmulatorHost.Mode:
        return await Assistants.Kit.Benchmarks.Diagnostics.EmulatorHost.RunAsync().ConfigureAwait(false);
    case "paired":
        return await Assistants.Kit.Benchmarks.Diagnostics.PairedTurns.RunAsync(args[1..]).ConfigureAwait(false);
    case "probe":
        return await Assistants.Kit.Benchmarks.Diagnostics.Probe.RunAsync(args[1..]).ConfigureAwait(false);
    case ScaleRunner.ChildMode:
        return await ScaleRunner.RunChildAsync(args[1..]).ConfigureAwait(false);
}

IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
if (args.Any(a => a is "--list" or "--help" or "-h" or "--info" or "--version"))
{
    return 0;
}

// A benchmark that threw or produced no measurement fails the run (CI's smoke job relies on it).
var failed = summaries.Where(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)).ToList();
foreach (var summary in failed)
{
    Console.Error.WriteLine($"FAILED: {summary.Title}");
}

return failed.Count == 0 && summaries.Any() ? 0 : 1;
