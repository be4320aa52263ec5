using System.Globalization;
using EngineeringMentor;

namespace Assistants.Kit.Tests.Files;

/// <summary>The Engineering Mentor sample in-process, offline on its built-in emulator: answer, citations, chart, idempotent ingestion.</summary>
public sealed class EngineeringMentorSampleTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("engineering-mentor-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ChartQuestion_PrintsTheCitedAnswer_AndSavesTheChart()
    {
        var (exit, stdout, stderr) = await RunAsync("How fast should code reviews happen?", "Chart the targets.");

        Assert.Equal(0, exit);
        var lines = Lines(stdout);
        Assert.Equal(
            "assistant: I drew the review turnaround targets as a chart. According to the handbook: The first review answer arrives within four working hours, and a pull request is approved or sent back within one working day【0:0†engineering-handbook.md】.",
            lines[0]);
        Assert.StartsWith("citation [1] engineering-handbook.md: \"## Code review Every change goes through a pull request. The first review answer arrives within four working hours", lines[1], StringComparison.Ordinal);
        Assert.Equal($"code logs: {MentorScript.ChartLogs}", lines[2]);
        Assert.StartsWith($"saved: {Path.Combine(EngineeringMentorApp.StateFolder, "outputs", "file-")}", lines[3], StringComparison.Ordinal);
        var chart = Path.Combine(_directory, lines[3]["saved: ".Length..]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(chart)[..4]);
        Assert.StartsWith("usage input=", lines[4], StringComparison.Ordinal);
        Assert.Equal(5, lines.Count);
        Assert.Contains("handbook: vector store vs_", stderr, StringComparison.Ordinal);
        Assert.Contains("(1 uploaded, 0 reused)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondRun_ReusesTheIngestedHandbook_AndPollingPrintsTheSameShape()
    {
        await RunAsync("When do we release?");

        var (exit, stdout, stderr) = await RunAsync("--poll", "When", "do", "we", "release?");

        Assert.Equal(0, exit);
        var lines = Lines(stdout);
        Assert.Equal("assistant: According to the handbook: We release on Tuesdays and Thursdays【0:0†engineering-handbook.md】.", lines[0]);
        Assert.StartsWith("citation [1] engineering-handbook.md: \"## Releases We release on Tuesdays and Thursdays.", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("usage input=", lines[2], StringComparison.Ordinal);
        Assert.Contains("(0 uploaded, 1 reused)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoQuestion_IsAUsageError()
    {
        var (exit, stdout, stderr) = await RunAsync();

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("usage: dotnet run --project samples/EngineeringMentor", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnconvertibleConfigurationValue_IsAConfigurationError_Exit2()
    {
        var (exit, stdout, stderr) = await RunWithEnvironmentAsync(
            new Dictionary<string, string?> { ["AssistantsKit__Polling__Timeout"] = "abc" }, "When do we release?");

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("error: ", stderr, StringComparison.Ordinal);
        Assert.Contains("'AssistantsKit:Polling:Timeout'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TheShippedHandbook_IsTheMarkdownNextToTheSample()
    {
        var text = System.Text.Encoding.UTF8.GetString(EngineeringMentorApp.Handbook());

        Assert.StartsWith("# Engineering handbook", text, StringComparison.Ordinal);
        Assert.Contains("## Review turnaround targets", text, StringComparison.Ordinal);
    }

    private static List<string> Lines(string text) => [.. text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)];

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        RunWithEnvironmentAsync(new Dictionary<string, string?>(), args);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exit = await EngineeringMentorApp.RunAsync(args, environment, stdout, stderr, _directory, timeout.Token);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
