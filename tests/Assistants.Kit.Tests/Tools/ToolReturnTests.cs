namespace Assistants.Kit.Tests.Tools;

/// <summary>What each kind of return value becomes in the output.</summary>
public sealed class ToolReturnTests
{
    [Theory]
    [InlineData("text", "Order \"A-1\" shipped")]
    [InlineData("text_task", "Order \"A-1\" shipped")]
    [InlineData("text_value_task", "Order \"A-1\" shipped")]
    [InlineData("status", """{"orderId":"A-1","state":"Shipped","deliveredAt":null,"lines":["boots"]}""")]
    [InlineData("status_task", """{"orderId":"A-1","state":"Shipped","deliveredAt":null,"lines":["boots"]}""")]
    [InlineData("status_value_task", """{"orderId":"A-1","state":"Shipped","deliveredAt":null,"lines":["boots"]}""")]
    [InlineData("number", "42")]
    [InlineData("nothing", ToolOutputs.Acknowledgement)]
    [InlineData("nothing_task", ToolOutputs.Acknowledgement)]
    [InlineData("nothing_value_task", ToolOutputs.Acknowledgement)]
    [InlineData("null_text", "null")]
    public async Task Execute_ReturnKind_FormatsOutput(string tool, string expected)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ReturnTools>());

        ToolCallRecord record = await harness.CallAsync(tool, "{}");

        Assert.Equal(ToolCallStatus.Succeeded, record.Status);
        Assert.Equal(expected, record.Output);
    }

    [Fact]
    public void Acknowledgement_IsDocumentedJson() => Assert.Equal("""{"ok":true}""", ToolOutputs.Acknowledgement);

    public enum OrderState
    {
        Pending,
        Shipped,
    }

    public sealed record OrderStatus(string OrderId, OrderState State, DateTimeOffset? DeliveredAt, IReadOnlyList<string> Lines);

    public sealed class ReturnTools
    {
        private const string Text = "Order \"A-1\" shipped";
        private static readonly OrderStatus Status = new("A-1", OrderState.Shipped, null, ["boots"]);

        [AssistantTool("text")]
        public static string GetText() => Text;

        [AssistantTool("text_task")]
        public static async Task<string> GetTextAsync()
        {
            await Task.Yield();
            return Text;
        }

        [AssistantTool("text_value_task")]
        public static ValueTask<string> GetTextValueTask() => ValueTask.FromResult(Text);

        [AssistantTool("status")]
        public static OrderStatus GetStatus() => Status;

        [AssistantTool("status_task")]
        public static async Task<OrderStatus> GetStatusAsync()
        {
            await Task.Yield();
            return Status;
        }

        [AssistantTool("status_value_task")]
        public static async ValueTask<OrderStatus> GetStatusValueTask()
        {
            await Task.Yield();
            return Status;
        }

        [AssistantTool("number")]
        public static int GetNumber() => 42;

        [AssistantTool("nothing")]
        public static void DoNothing()
        {
        }

        [AssistantTool("nothing_task")]
        public static async Task DoNothingAsync() => await Task.Yield();

        [AssistantTool("nothing_value_task")]
        public static ValueTask DoNothingValueTask() => ValueTask.CompletedTask;

        [AssistantTool("null_text")]
        public static Task<string?> GetNullAsync() => Task.FromResult<string?>(null);
    }
}
