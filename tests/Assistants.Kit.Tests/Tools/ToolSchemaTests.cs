namespace Assistants.Kit.Tests.Tools;

/// <summary>Schema snapshots: the parameters JSON schema of each parameter shape, exactly as the model sees it.</summary>
public sealed class ToolSchemaTests
{
    [Theory]
    [InlineData("echo_string", """{"type":"object","properties":{"text":{"description":"The text to echo","type":"string"}},"required":["text"]}""")]
    [InlineData("numbers", """{"type":"object","properties":{"count":{"type":"integer"},"big":{"type":"integer"},"ratio":{"type":"number"},"price":{"type":"number"}},"required":["count","big","ratio","price"]}""")]
    [InlineData("flag", """{"type":"object","properties":{"enabled":{"type":"boolean"}},"required":["enabled"]}""")]
    [InlineData("convert", """{"type":"object","properties":{"unit":{"description":"Target unit","type":"string","enum":["Celsius","Fahrenheit"]}},"required":["unit"]}""")]
    [InlineData("schedule", """{"type":"object","properties":{"at":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"}},"required":["at","id"]}""")]
    [InlineData("place_order", """{"type":"object","properties":{"order":{"type":"object","properties":{"customerId":{"type":"string"},"shipTo":{"type":"object","properties":{"street":{"description":"Street and number","type":"string"},"city":{"type":"string"},"zip":{"type":["string","null"]}},"required":["street","city","zip"]},"items":{"type":"array","items":{"type":"object","properties":{"sku":{"description":"Stock keeping unit","type":"string"},"quantity":{"type":"integer"}}}}},"required":["customerId","shipTo","items"]}},"required":["order"]}""")]
    [InlineData("collections", """{"type":"object","properties":{"values":{"type":"array","items":{"type":"integer"}},"tags":{"type":"array","items":{"type":"string"}},"items":{"type":"array","items":{"type":"object","properties":{"sku":{"description":"Stock keeping unit","type":"string"},"quantity":{"type":"integer"}}}}},"required":["values","tags","items"]}""")]
    [InlineData("search", """{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":["integer","null"]},"sort":{"type":"string","default":"relevance"},"unit":{"type":"string","enum":["Celsius","Fahrenheit"],"default":"Celsius"},"exact":{"type":"boolean","default":false},"note":{"type":["string","null"],"default":null}},"required":["query","limit"]}""")]
    public async Task Tools_ParameterShape_SchemaMatchesSnapshot(string tool, string expected)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        Assert.Equal(expected, harness.Schema(tool));
        Assert.False(harness.Spec(tool).Strict);
    }

    [Fact]
    public async Task Tools_InjectedParameters_AbsentFromSchema()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        // CancellationToken, ToolCallContext and IServiceProvider are supplied by the kit; only 'value' is the model's.
        Assert.Equal("""{"type":"object","properties":{"value":{"type":"string"}},"required":["value"]}""", harness.Schema("injected"));
    }

    [Fact]
    public async Task Tools_Description_FromAttributeThenDescriptionAttribute()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>().AddTools<DescribedTools>());

        Assert.Equal("Echoes a text.", harness.Spec("echo_string").Description);
        Assert.Equal("Described by [Description].", harness.Spec("described").Description);
        Assert.Null(harness.Spec("numbers").Description);
    }

    [Theory]
    [InlineData("search", """{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":["integer","null"]},"sort":{"type":["string","null"],"description":"Default value: \u0022relevance\u0022"},"unit":{"type":["string","null"],"enum":["Celsius","Fahrenheit",null],"description":"Default value: \u0022Celsius\u0022"},"exact":{"type":["boolean","null"],"description":"Default value: false"},"note":{"type":["string","null"],"description":"Default value: null"}},"required":["query","limit","sort","unit","exact","note"],"additionalProperties":false}""")]
    [InlineData("place_order", """{"type":"object","properties":{"order":{"type":"object","properties":{"customerId":{"type":"string"},"shipTo":{"type":"object","properties":{"street":{"description":"Street and number","type":"string"},"city":{"type":"string"},"zip":{"type":["string","null"]}},"required":["street","city","zip"],"additionalProperties":false},"items":{"type":"array","items":{"type":"object","properties":{"sku":{"description":"Stock keeping unit","type":"string"},"quantity":{"type":"integer"}},"additionalProperties":false,"required":["sku","quantity"]}}},"required":["customerId","shipTo","items"],"additionalProperties":false}},"required":["order"],"additionalProperties":false}""")]
    [InlineData("echo_string", """{"type":"object","properties":{"text":{"description":"The text to echo","type":"string"}},"required":["text"],"additionalProperties":false}""")]
    public async Task Tools_StrictSchemas_AllRequiredOptionalNullableNoAdditionalProperties(string tool, string expected)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>().ConfigureTools(o => o.StrictSchemas = true));

        Assert.Equal(expected, harness.Schema(tool));
        Assert.True(harness.Spec(tool).Strict);
    }

    [Fact]
    public async Task GetTools_Subset_InRequestedOrderWithoutDuplicates()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        var subset = harness.Executor.GetTools(["flag", "numbers", "flag"]);

        Assert.Equal(["flag", "numbers"], subset.Select(s => s.Name));
        Assert.Same(harness.Spec("flag"), subset[0]);
    }

    [Fact]
    public async Task GetTools_UnknownName_ThrowsNamingIt()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        var ex = Assert.Throws<ArgumentException>(() => harness.Executor.GetTools(["flag", "nope"]));
        Assert.Contains("'nope'", ex.Message, StringComparison.Ordinal);
    }

    public sealed class DescribedTools
    {
        [AssistantTool("described")]
        [System.ComponentModel.Description("Described by [Description].")]
        public static string Described() => "";
    }
}
