using System.Diagnostics;
using System.Reflection;
using Assistants.Kit.Benchmarks.Turns;
using Assistants.Kit.Testing;

namespace Assistants.Kit.Benchmarks.Diagnostics;

/// <summary>
/// The emulator in a process of its own (<c>emulator-host</c> mode), so that what a client process allocates is the
/// client's alone. The host prints <c>LISTENING {base URI}</c>, clears its request log every second, and stops when its
/// standard input closes.
/// </summary>
internal sealed class EmulatorHost : IDisposable
{
    public const string Mode = "emulator-host";
    private readonly Process _process;

    private EmulatorHost(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public static async Task<int> RunAsync()
    {
        await using var emulator = await AssistantsEmulator.StartAsync().ConfigureAwait(false);
        TurnScript.Apply(emulator.Script);
        Console.WriteLine("LISTENING " + emulator.BaseUri);
        using var stop = new CancellationTokenSource();
        var input = Task.Run(() => Console.In.ReadToEnd());
        while (!input.IsCompleted)
        {
            emulator.Requests.Clear();
            await Task.WhenAny(input, Task.Delay(1000)).ConfigureAwait(false);
        }

        return 0;
    }

    public static EmulatorHost Start()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        start.ArgumentList.Add(Mode);
        var process = Process.Start(start)!;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
                return new EmulatorHost(process, new Uri(line["LISTENING ".Length..]));
            }
        }

        throw new InvalidOperationException("The emulator host did not start.");
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
