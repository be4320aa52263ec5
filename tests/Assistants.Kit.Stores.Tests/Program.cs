using Assistants.Kit.Stores.Tests.Sqlite;

namespace Assistants.Kit.Stores.Tests;

/// <summary>
/// The entry point of the test assembly (instead of the one Microsoft.NET.Test.Sdk generates, which does nothing). The
/// test host never calls it; <c>dotnet Assistants.Kit.Stores.Tests.dll sqlite-worker …</c> runs the second OS process of
/// the multi-process SQLite test.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args) =>
        args is [SqliteWorker.Command, ..] ? await SqliteWorker.RunAsync(args[1..]) : 0;
}
