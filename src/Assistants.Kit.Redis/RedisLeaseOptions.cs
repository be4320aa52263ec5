namespace Assistants.Kit;

/// <summary>Options of the Redis conversation leases (<c>AddRedisLeases</c>).</summary>
/// <remarks>
/// <para>
/// Layout: the lease of a conversation key is the string <c>{prefix}lease:{conversation key}</c> holding its holder's
/// random owner ID, with the lease's expiry (<c>SET … NX PX</c>); <c>{prefix}fence:{conversation key}</c> is the key's
/// fencing counter, incremented by every successful acquire and never expiring, so tokens keep growing across leases
/// and expiries. Delete a fence key only together with the bindings of its conversation key: a counter that starts over
/// hands out tokens lower than those stored, and every write is then refused as fenced. On Redis Cluster, put a hash
/// tag in the prefix (e.g. <c>{assistants-kit}:</c>): the acquire script touches both keys.
/// </para>
/// <para>
/// Expiry runs on the Redis server's clock, renewal on the kit's <see cref="TimeProvider"/>: use a clock that advances in
/// real time (the default), or leases lapse while held.
/// </para>
/// </remarks>
public sealed class RedisLeaseOptions
{
    /// <summary>The default <see cref="LeaseDuration"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultLeaseDuration = TimeSpan.FromSeconds(30);

    /// <summary>The shortest <see cref="LeaseDuration"/>: 10 milliseconds.</summary>
    public static readonly TimeSpan MinLeaseDuration = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest <see cref="LeaseDuration"/>: 1 day.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromDays(1);

    /// <summary>
    /// Gets or sets how long a lease lives without renewal (default 30 seconds, whole milliseconds rounded up): how long
    /// a conversation stays blocked after its holder crashed, and how long a holder may be unreachable (a pause, a
    /// partition) before another instance takes over and the stale holder's writes are fenced off.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = DefaultLeaseDuration;

    /// <summary>
    /// Gets or sets how often a held lease is renewed (its expiry set to <see cref="LeaseDuration"/> again);
    /// <see langword="null"/> (default) is a third of <see cref="LeaseDuration"/>, which tolerates one failed renewal.
    /// Must be shorter than <see cref="LeaseDuration"/>.
    /// </summary>
    public TimeSpan? RenewInterval { get; set; }

    /// <summary>
    /// Gets or sets the shortest wait between two attempts to acquire a lease another instance holds (default 50 ms).
    /// Each wait is drawn at random between this and <see cref="AcquireRetryMaxDelay"/>, so waiting instances do not
    /// retry in lockstep.
    /// </summary>
    public TimeSpan AcquireRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets or sets the longest wait between two attempts to acquire a lease (default 200 ms); at least <see cref="AcquireRetryDelay"/>.</summary>
    public TimeSpan AcquireRetryMaxDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets the prefix of the lease and fence keys; <see langword="null"/> (default) is the store's
    /// <see cref="RedisStoreOptions.KeyPrefix"/>. Every instance sharing conversation keys must use the same prefix.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>Gets the renewal interval in effect: <see cref="RenewInterval"/>, or a third of <see cref="LeaseDuration"/>.</summary>
    internal TimeSpan EffectiveRenewInterval => RenewInterval ?? LeaseDuration / 3;
}
