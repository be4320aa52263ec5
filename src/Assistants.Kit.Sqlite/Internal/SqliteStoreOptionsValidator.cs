using Microsoft.Extensions.Options;

namespace Assistants.Kit.Sqlite.Internal;

/// <summary>Validates <see cref="SqliteStoreOptions"/>; every message names the setting and the value it had.</summary>
internal sealed class SqliteStoreOptionsValidator : IValidateOptions<SqliteStoreOptions>
{
    internal static readonly TimeSpan MaxBusyTimeout = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, SqliteStoreOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"SqliteStoreOptions.Path must be the path of a database file (was '{options.Path}').");
        }
        else if (options.Path.Trim() == ":memory:" || options.Path.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"SqliteStoreOptions.Path must be a file path; in-memory databases and URIs are not supported (was '{options.Path}').");
        }
        else if (options.Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            errors.Add($"SqliteStoreOptions.Path contains characters not allowed in a path (was '{options.Path}').");
        }

        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout > MaxBusyTimeout)
        {
            errors.Add($"SqliteStoreOptions.BusyTimeout must be between 00:00:00 and {MaxBusyTimeout} (was {options.BusyTimeout}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
