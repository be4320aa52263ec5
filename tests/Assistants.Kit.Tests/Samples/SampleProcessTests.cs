using System.Diagnostics;

namespace Assistants.Kit.Tests.Samples;

/// <summary>The sample as users run it: real processes, offline, one after the other.</summary>
public sealed class SampleProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("order-support-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "order-support.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "ASSISTANTS_KIT_TELEMETRY" })
        {
            start.Environment.Remove(name);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AssistantsKit__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task TwoProcessesInARow_ContinueOneConversationOffline_AndNewStartsAnother()
    {
        var first = await RunAsync("Hello");
        var second = await RunAsync("Hello", "again");
        var fresh = await RunAsync("--new", "Fresh", "start");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(0, fresh.ExitCode);
        Assert.Contains("assistant: Emulated reply to \"Hello\". This thread holds 0 earlier user messages.", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("assistant: Emulated reply to \"Hello again\". This thread holds 1 earlier user message.", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("assistant: Emulated reply to \"Fresh start\". This thread holds 0 earlier user messages.", fresh.Stdout, StringComparison.Ordinal);
        Assert.Contains("using the built-in emulator", first.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_directory, ".assistants-kit"), first.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_directory, ".assistants-kit", "conversations.db")));
        Assert.True(File.Exists(Path.Combine(_directory, ".assistants-kit", "emulator-state.json")));
        Assert.StartsWith("usage ", second.Stdout.TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
    }
}
