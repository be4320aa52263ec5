using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Assistants.Kit.Redis.Internal;

/// <summary>Validates <see cref="RedisStoreOptions"/>; every message names the setting and the value it had (passwords masked).</summary>
internal sealed partial class RedisStoreOptionsValidator : IValidateOptions<RedisStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisStoreOptions options)
    {
        var errors = new List<string>();
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (options.Multiplexer is not null && hasConnectionString)
        {
            errors.Add($"RedisStoreOptions: set ConnectionString or Multiplexer, not both (ConnectionString was '{Mask(options.ConnectionString)}').");
        }
        else if (options.Multiplexer is null && !hasConnectionString)
        {
            errors.Add($"RedisStoreOptions.ConnectionString (or Multiplexer) is required, e.g. 'localhost:6379' (was '{options.ConnectionString}').");
        }
        else if (hasConnectionString)
        {
            try
            {
                if (ConfigurationOptions.Parse(options.ConnectionString!).EndPoints.Count == 0)
                {
                    errors.Add($"RedisStoreOptions.ConnectionString names no server, e.g. 'localhost:6379' (was '{Mask(options.ConnectionString)}').");
                }
            }
            catch (ArgumentException ex)
            {
                errors.Add($"RedisStoreOptions.ConnectionString is not a valid StackExchange.Redis configuration: {ex.Message} (was '{Mask(options.ConnectionString)}').");
            }
        }

        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            errors.Add($"RedisStoreOptions.KeyPrefix must not be empty (was '{options.KeyPrefix}').");
        }

        if (options.Database < -1)
        {
            errors.Add($"RedisStoreOptions.Database must be -1 (the connection's default) or a database number (was {options.Database}).");
        }

        if (options.BindingTimeToLive is { } ttl && ttl < TimeSpan.FromMilliseconds(1))
        {
            errors.Add($"RedisStoreOptions.BindingTimeToLive must be positive, or null for no expiry (was {ttl}).");
        }

        if (options.UsageRetention is { } retention && retention < TimeSpan.FromMilliseconds(1))
        {
            errors.Add($"RedisStoreOptions.UsageRetention must be positive, or null to keep entries forever (was {retention}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Masks the password of a configuration string, which may end up in a log.</summary>
    internal static string? Mask(string? connectionString) =>
        connectionString is null ? null : PasswordPattern().Replace(connectionString, "$1***");

    [GeneratedRegex(@"((?:^|,)\s*password\s*=)[^,]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordPattern();
}
