using Microsoft.Extensions.Options;

namespace Assistants.Kit.Redis.Internal;

/// <summary>Validates <see cref="RedisLeaseOptions"/>; every message names the setting and the value it had.</summary>
internal sealed class RedisLeaseOptionsValidator : IValidateOptions<RedisLeaseOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisLeaseOptions options)
    {
        var errors = new List<string>();
        var durationValid = options.LeaseDuration >= RedisLeaseOptions.MinLeaseDuration && options.LeaseDuration <= RedisLeaseOptions.MaxLeaseDuration;
        if (!durationValid)
        {
            errors.Add($"RedisLeaseOptions.LeaseDuration must be between {RedisLeaseOptions.MinLeaseDuration} and {RedisLeaseOptions.MaxLeaseDuration} (was {options.LeaseDuration}).");
        }

        if (options.RenewInterval is { } renew && (renew <= TimeSpan.Zero || (durationValid && renew >= options.LeaseDuration)))
        {
            errors.Add($"RedisLeaseOptions.RenewInterval must be positive and shorter than LeaseDuration ({options.LeaseDuration}), or null for a third of it (was {renew}).");
        }

        if (options.AcquireRetryDelay <= TimeSpan.Zero || options.AcquireRetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"RedisLeaseOptions.AcquireRetryDelay must be positive and at most 00:01:00 (was {options.AcquireRetryDelay}).");
        }
        else if (options.AcquireRetryMaxDelay < options.AcquireRetryDelay || options.AcquireRetryMaxDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"RedisLeaseOptions.AcquireRetryMaxDelay must be between AcquireRetryDelay ({options.AcquireRetryDelay}) and 00:01:00 (was {options.AcquireRetryMaxDelay}).");
        }

        if (options.KeyPrefix is { Length: 0 })
        {
            errors.Add("RedisLeaseOptions.KeyPrefix must not be empty; null uses the store's KeyPrefix (was '').");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
