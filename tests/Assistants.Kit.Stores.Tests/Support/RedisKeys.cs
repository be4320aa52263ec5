using StackExchange.Redis;

namespace Assistants.Kit.Stores.Tests.Support;

/// <summary>Looks at and cleans up the keys a test wrote under its prefix.</summary>
internal static class RedisKeys
{
    public static async Task<List<string>> ListAsync(string prefix)
    {
        var keys = new List<string>();
        foreach (var endpoint in RedisServer.Multiplexer.GetEndPoints())
        {
            await foreach (var key in RedisServer.Multiplexer.GetServer(endpoint).KeysAsync(pattern: prefix + "*", pageSize: 1000))
            {
                keys.Add(key!);
            }
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    public static async Task DeleteAsync(string prefix)
    {
        var keys = await ListAsync(prefix);
        if (keys.Count > 0)
        {
            await RedisServer.Multiplexer.GetDatabase().KeyDeleteAsync([.. keys.Select(k => (RedisKey)k)]);
        }
    }
}
