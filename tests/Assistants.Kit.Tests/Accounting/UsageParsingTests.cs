using System.ClientModel.Primitives;
using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Accounting.Internal;
using OpenAI;
using OpenAI.Assistants;
using OpenAI.Responses;

namespace Assistants.Kit.Tests.Accounting;

public sealed class UsageParsingTests
{
    [Fact]
    public void AssistantsRunUsage_FromRecordedRun_ReadsPromptCompletionCachedAndReasoning()
    {
        var run = RecordedAssistantsRun();

        var usage = TokenUsage.Parse(run.GetProperty("usage"));

        Assert.Equal(new TokenUsage(627, 34, 0, 0), usage);
        Assert.Equal(661, usage.TotalTokens);
    }

    [Fact]
    public void ResponsesUsage_FromRecordedResponse_ReadsNonZeroCachedAndReasoning()
    {
        var usage = TokenUsage.Parse(RecordedResponse().GetProperty("usage"));

        Assert.Equal(new TokenUsage(12724, 698, 4352, 532), usage);
        Assert.Equal(13422, usage.TotalTokens);
    }

    [Fact]
    public void AssistantsUsage_AcceptsBothDetailSpellings()
    {
        // The Assistants API spells it "prompt_token_details" (singular); Chat Completions "prompt_tokens_details".
        var singular = TokenUsage.Parse(BinaryData.FromString(
            """{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_token_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}"""));
        var plural = TokenUsage.Parse(BinaryData.FromString(
            """{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":3}}"""));

        Assert.Equal(new TokenUsage(10, 5, 3, 2), singular);
        Assert.Equal(new TokenUsage(10, 5, 3, 0), plural);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"total_tokens":3}""")]
    [InlineData("not json")]
    public void TryParse_NotAUsageObject_ReturnsFalse(string json)
    {
        Assert.False(TokenUsage.TryParse(BinaryData.FromString(json), out var usage));
        Assert.Equal(TokenUsage.Zero, usage);
        Assert.Throws<FormatException>(() => TokenUsage.Parse(BinaryData.FromString(json)));
    }

    [Fact]
    public void SdkRunUsage_TypedPropertiesDropCachedAndReasoning_ButTheBridgeKeepsThem()
    {
        // The recorded run has zeros; give it non-zero details to prove they survive the SDK's model.
        var json = RecordedAssistantsRunNode();
        json["usage"]!["prompt_token_details"]!["cached_tokens"] = 128;
        json["usage"]!["completion_tokens_details"]!["reasoning_tokens"] = 16;
        var run = ModelReaderWriter.Read<ThreadRun>(
            BinaryData.FromString(json.ToJsonString()), ModelReaderWriterOptions.Json, OpenAIContext.Default)!;

        Assert.Equal(627, run.Usage.InputTokenCount); // the typed usage has no cached/reasoning properties at all
        Assert.Equal(new TokenUsage(627, 34, 128, 16), SdkTokenUsage.From(run.Usage));
        Assert.Equal(
            new TokenUsage(627, 34, 128, 16),
            TokenUsage.Parse(ModelReaderWriter.Write(run.Usage, ModelReaderWriterOptions.Json, OpenAIContext.Default)));
    }

    [Theory]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":7},"completion_tokens_details":{"reasoning_tokens":3}}""", 7, 3)]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":5,"prompt_token_details":{"cached_tokens":4},"prompt_tokens_details":{"cached_tokens":7}}""", 4, 0)]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":5,"prompt_token_details":{"cached_tokens":0},"prompt_tokens_details":{"cached_tokens":7}}""", 7, 0)]
    [InlineData("""{"cached_tokens":9,"reasoning_tokens":9,"other":{"cached_tokens":9,"reasoning_tokens":9},"completion_tokens_details":{"cached_tokens":9,"x":{"reasoning_tokens":9}}}""", 0, 0)]
    [InlineData("""{"prompt_tokens_details":{"cached_tokens":"7"},"completion_tokens_details":{"reasoning_tokens":null}}""", 0, 0)]
    public void SdkUsageBridge_ReadsTheTwoDetailCountsWhereTheParserDoes(string json, long cached, long reasoning)
    {
        Assert.Equal((cached, reasoning), SdkTokenUsage.ReadDetails(System.Text.Encoding.UTF8.GetBytes(json)));

        // The same counts as the public parser, for the same JSON.
        if (TokenUsage.TryParse(BinaryData.FromString(json), out var parsed))
        {
            Assert.Equal((parsed.CachedInputTokens, parsed.ReasoningTokens), (cached, reasoning));
        }
    }

    [Fact]
    public void SdkRunStepUsage_FromRecordedStreamedStep()
    {
        var stepJson = RecordedStreamEvents("openai-dotnet/AssistantsTests/StreamingToolCall().json", "thread.run.step.completed").First();
        var step = ModelReaderWriter.Read<RunStep>(BinaryData.FromString(stepJson), ModelReaderWriterOptions.Json, OpenAIContext.Default)!;

        Assert.Equal(new TokenUsage(260, 12), SdkTokenUsage.From(step.Usage));
        Assert.Equal(TokenUsage.Zero, SdkTokenUsage.From((RunStepTokenUsage?)null));
    }

    [Fact]
    public void SdkResponseUsage_FromRecordedResponse()
    {
        var response = ModelReaderWriter.Read<ResponseResult>(
            BinaryData.FromString(RecordedResponse().GetRawText()), ModelReaderWriterOptions.Json, OpenAIContext.Default)!;

        Assert.Equal(new TokenUsage(12724, 698, 4352, 532), SdkTokenUsage.From(response.Usage));
        Assert.Equal(
            new TokenUsage(12724, 698, 4352, 532),
            TokenUsage.Parse(ModelReaderWriter.Write(response.Usage, ModelReaderWriterOptions.Json, OpenAIContext.Default)));
    }

    internal static JsonElement RecordedAssistantsRun() =>
        JsonDocument.Parse(RecordedAssistantsRunNode().ToJsonString()).RootElement.Clone();

    internal static JsonElement RecordedResponse()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Fixture("openai-dotnet/ResponsesToolTests/WebSearchCallWithReasoning.json")));
        return document.RootElement.GetProperty("Entries")[0].GetProperty("ResponseBody").Clone();
    }

    private static JsonNode RecordedAssistantsRunNode()
    {
        var root = JsonNode.Parse(File.ReadAllText(Fixture("openai-dotnet/AssistantsTests/FunctionToolsWork.json")))!;
        return root["Entries"]!.AsArray()
            .Select(e => e!["ResponseBody"])
            .Last(b => b is JsonObject o && o["object"]?.GetValue<string>() == "thread.run" && o["usage"] is JsonObject)!
            .DeepClone();
    }

    private static IEnumerable<string> RecordedStreamEvents(string fixture, string eventName)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Fixture(fixture)));
        foreach (var entry in document.RootElement.GetProperty("Entries").EnumerateArray())
        {
            if (entry.GetProperty("ResponseBody").ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var body = string.Concat(entry.GetProperty("ResponseBody").EnumerateArray().Select(s => s.GetString()));
            foreach (var block in body.Split("\n\n"))
            {
                var lines = block.Split('\n');
                if (lines.Length >= 2 && lines[0] == "event: " + eventName && lines[1].StartsWith("data: ", StringComparison.Ordinal))
                {
                    yield return lines[1]["data: ".Length..];
                }
            }
        }
    }

    private static string Fixture(string relative) =>
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "openai-recorded", relative);
}
