using System.Buffers;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI.Assistants;
using OpenAI.Responses;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>
/// Turns the OpenAI client's usage types into <see cref="TokenUsage"/> with cached and reasoning tokens. The typed
/// <see cref="RunTokenUsage"/> and <see cref="RunStepTokenUsage"/> drop them, but they survive in the model's
/// additional properties, so the usage is written back to JSON (into a reused per-thread buffer) and the two counts are
/// read from it with a forward-only reader (no document, no intermediate <see cref="BinaryData"/>).
/// </summary>
internal static class SdkTokenUsage
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>A run's usage (also on streamed run updates); <see cref="TokenUsage.Zero"/> when <see langword="null"/>.</summary>
    public static TokenUsage From(RunTokenUsage? usage) =>
        usage is null ? TokenUsage.Zero : Read(usage, usage.InputTokenCount, usage.OutputTokenCount);

    /// <summary>A run step's usage; <see cref="TokenUsage.Zero"/> when <see langword="null"/>.</summary>
    public static TokenUsage From(RunStepTokenUsage? usage) =>
        usage is null ? TokenUsage.Zero : Read(usage, usage.InputTokenCount, usage.OutputTokenCount);

    /// <summary>A response's usage; <see cref="TokenUsage.Zero"/> when <see langword="null"/>.</summary>
    public static TokenUsage From(ResponseTokenUsage? usage) =>
        usage is null
            ? TokenUsage.Zero
            : new TokenUsage(
                usage.InputTokenCount,
                usage.OutputTokenCount,
                usage.InputTokenDetails?.CachedTokenCount ?? 0,
                usage.OutputTokenDetails?.ReasoningTokenCount ?? 0);

    private static TokenUsage Read<T>(IJsonModel<T> usage, long input, long output)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(buffer);
        }
        else
        {
            writer.Reset(buffer);
        }

        usage.Write(writer, ModelReaderWriterOptions.Json);
        writer.Flush();
        var (cached, reasoning) = ReadDetails(buffer.WrittenSpan);
        return new TokenUsage(input, output, cached, reasoning);
    }

    /// <summary>
    /// Reads <c>prompt_tokens_details.cached_tokens</c> (or the older <c>prompt_token_details</c>, preferred when non-zero,
    /// as <see cref="TokenUsage.TryParse(JsonElement, out TokenUsage)"/> does) and <c>completion_tokens_details.reasoning_tokens</c>.
    /// </summary>
    internal static (long Cached, long Reasoning) ReadDetails(ReadOnlySpan<byte> json)
    {
        long cachedOld = 0, cachedNew = 0, reasoning = 0;
        var parent = Parent.None;
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == 1)
            {
                parent = reader.ValueTextEquals("prompt_tokens_details"u8) ? Parent.PromptTokensDetails
                    : reader.ValueTextEquals("prompt_token_details"u8) ? Parent.PromptTokenDetails
                    : reader.ValueTextEquals("completion_tokens_details"u8) ? Parent.CompletionTokensDetails
                    : Parent.None;
                continue;
            }

            if (reader.CurrentDepth != 2 || parent == Parent.None)
            {
                continue;
            }

            var isCached = parent != Parent.CompletionTokensDetails && reader.ValueTextEquals("cached_tokens"u8);
            var isReasoning = parent == Parent.CompletionTokensDetails && reader.ValueTextEquals("reasoning_tokens"u8);
            if ((isCached || isReasoning) && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var count))
            {
                if (isReasoning)
                {
                    reasoning = count;
                }
                else if (parent == Parent.PromptTokenDetails)
                {
                    cachedOld = count;
                }
                else
                {
                    cachedNew = count;
                }
            }
        }

        return (cachedOld != 0 ? cachedOld : cachedNew, reasoning);
    }

    private enum Parent
    {
        None,
        PromptTokensDetails,
        PromptTokenDetails,
        CompletionTokensDetails,
    }
}
