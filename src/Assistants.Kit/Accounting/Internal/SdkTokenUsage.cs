using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Assistants;
using OpenAI.Responses;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>
/// Turns the OpenAI client's usage types into <see cref="TokenUsage"/> with cached and reasoning tokens. The typed
/// <see cref="RunTokenUsage"/> and <see cref="RunStepTokenUsage"/> drop them, but they survive in the model's
/// additional properties, so the usage is written back to JSON and parsed.
/// </summary>
internal static class SdkTokenUsage
{
    /// <summary>A run's usage (also on streamed run updates); <see cref="TokenUsage.Zero"/> when <see langword="null"/>.</summary>
    public static TokenUsage From(RunTokenUsage? usage) =>
        usage is null ? TokenUsage.Zero : Parse(ModelReaderWriter.Write(usage, ModelReaderWriterOptions.Json, OpenAIContext.Default), usage.InputTokenCount, usage.OutputTokenCount);

    /// <summary>A run step's usage; <see cref="TokenUsage.Zero"/> when <see langword="null"/>.</summary>
    public static TokenUsage From(RunStepTokenUsage? usage) =>
        usage is null ? TokenUsage.Zero : Parse(ModelReaderWriter.Write(usage, ModelReaderWriterOptions.Json, OpenAIContext.Default), usage.InputTokenCount, usage.OutputTokenCount);

    /// <summary>A response's usage; <see cref="TokenUsage.Zero"/> when <see langword="null"/>.</summary>
    public static TokenUsage From(ResponseTokenUsage? usage) =>
        usage is null
            ? TokenUsage.Zero
            : new TokenUsage(
                usage.InputTokenCount,
                usage.OutputTokenCount,
                usage.InputTokenDetails?.CachedTokenCount ?? 0,
                usage.OutputTokenDetails?.ReasoningTokenCount ?? 0);

    private static TokenUsage Parse(BinaryData json, long input, long output) =>
        TokenUsage.TryParse(json, out var usage) ? usage : new TokenUsage(input, output);
}
