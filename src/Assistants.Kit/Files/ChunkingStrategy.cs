using System.Globalization;
using System.Text.Json.Nodes;

namespace Assistants.Kit;

/// <summary>
/// How the service splits a file into chunks for file search: <see cref="Auto"/> (the service's default, 800-token chunks
/// overlapping by 400) or <see cref="Static(int, int)"/>.
/// </summary>
public sealed class ChunkingStrategy
{
    private ChunkingStrategy(int? maxChunkSizeTokens, int? chunkOverlapTokens)
    {
        MaxChunkSizeTokens = maxChunkSizeTokens;
        ChunkOverlapTokens = chunkOverlapTokens;
    }

    /// <summary>Gets the service's default strategy (<c>{"type":"auto"}</c>).</summary>
    public static ChunkingStrategy Auto { get; } = new(null, null);

    /// <summary>Gets the largest chunk in tokens (static strategy); <see langword="null"/> for <see cref="Auto"/>.</summary>
    public int? MaxChunkSizeTokens { get; }

    /// <summary>Gets the tokens consecutive chunks share (static strategy); <see langword="null"/> for <see cref="Auto"/>.</summary>
    public int? ChunkOverlapTokens { get; }

    /// <summary>Gets a value indicating whether this is <see cref="Auto"/>.</summary>
    public bool IsAuto => MaxChunkSizeTokens is null;

    /// <summary>A static strategy (<c>{"type":"static","static":{…}}</c>).</summary>
    /// <param name="maxChunkSizeTokens">The largest chunk in tokens: 100 to 4,096.</param>
    /// <param name="chunkOverlapTokens">The tokens consecutive chunks share: 0 to half of <paramref name="maxChunkSizeTokens"/>.</param>
    /// <returns>The strategy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (the message names it).</exception>
    public static ChunkingStrategy Static(int maxChunkSizeTokens, int chunkOverlapTokens)
    {
        if (maxChunkSizeTokens is < 100 or > 4096)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxChunkSizeTokens),
                maxChunkSizeTokens,
                string.Create(CultureInfo.InvariantCulture, $"The chunk size must be 100 to 4096 tokens (was {maxChunkSizeTokens})."));
        }

        if (chunkOverlapTokens < 0 || chunkOverlapTokens > maxChunkSizeTokens / 2)
        {
            throw new ArgumentOutOfRangeException(
                nameof(chunkOverlapTokens),
                chunkOverlapTokens,
                string.Create(CultureInfo.InvariantCulture, $"The chunk overlap must be 0 to half the chunk size, {maxChunkSizeTokens / 2} tokens (was {chunkOverlapTokens})."));
        }

        return new ChunkingStrategy(maxChunkSizeTokens, chunkOverlapTokens);
    }

    /// <inheritdoc />
    public override string ToString() =>
        IsAuto ? "auto" : string.Create(CultureInfo.InvariantCulture, $"static({MaxChunkSizeTokens}, overlap {ChunkOverlapTokens})");

    internal JsonObject ToJson() => IsAuto
        ? new JsonObject { ["type"] = "auto" }
        : new JsonObject
        {
            ["type"] = "static",
            ["static"] = new JsonObject { ["max_chunk_size_tokens"] = MaxChunkSizeTokens, ["chunk_overlap_tokens"] = ChunkOverlapTokens },
        };
}
