using Assistants.Kit.Stores.Tests.Sqlite;

namespace Assistants.Kit.Stores.Tests;

/// <summary>
/// The entry point of the test assembly (instead of the one Microsoft.NET.Test.Sdk generates, which does nothing). The
/// test host never calls it; <c>dotnet Assistants.Kit.Stores.Tests.dll sqlite-worker …</c> (or <c>sqlite-ledger-worker …</c>)
/// runs another OS process of the multi-process SQLite tests.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args) => args switch
    {
        [SqliteWorker.Command, ..] => await SqliteWorker.RunAsync(args[1..]),
        [SqliteWorker.LedgerCommand, ..] => await SqliteWorker.RunLedgerAsync(args[1..]),
        _ => 0,
    };
}
