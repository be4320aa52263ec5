namespace Assistants.Kit.Benchmarks.Scale;

internal static class ScaleRunner
{
    public const string ChildMode = "scale-child";

    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);

    public static Task<int> RunChildAsync(string[] args) => Task.FromResult(0);
}
