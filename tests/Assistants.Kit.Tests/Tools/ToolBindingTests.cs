using System.Text.Json;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Tools;

/// <summary>Binding tests: each parameter shape receives the model's JSON arguments as typed values.</summary>
public sealed class ToolBindingTests
{
    [Theory]
    [InlineData("echo_string", """{"text":"héllo <b>\"world\"</b>"}""", "héllo <b>\"world\"</b>")]
    [InlineData("numbers", """{"count":3,"big":9007199254740993,"ratio":0.25,"price":19.99}""", "3|9007199254740993|0.25|19.99")]
    [InlineData("numbers", """{"count":"3","big":"1","ratio":"0.5","price":"2"}""", "3|1|0.5|2")]
    [InlineData("flag", """{"enabled":true}""", "on")]
    [InlineData("flag", """{"enabled":false, /* the model's comment */ }""", "off")]
    [InlineData("convert", """{"unit":"Fahrenheit"}""", "Fahrenheit")]
    [InlineData("schedule", """{"at":"2026-03-01T09:30:00+01:00","id":"6f1c2b1e-8a7d-4a57-9a43-8d1f1f0b3c11"}""", "2026-03-01T09:30:00.0000000+01:00|6f1c2b1e-8a7d-4a57-9a43-8d1f1f0b3c11")]
    [InlineData("place_order", """{"order":{"customerId":"c-1","shipTo":{"street":"1 Main St","city":"Springfield","zip":null},"items":[{"sku":"A","quantity":2},{"sku":"B","quantity":1}]}}""", "c-1|1 Main St|Springfield|-|Ax2,Bx1")]
    [InlineData("collections", """{"values":[1,2,3],"tags":["a","b"],"items":[{"sku":"A","quantity":1}]}""", "6|a+b|1")]
    [InlineData("search", """{"query":"boots","limit":null}""", "boots|null|relevance|Celsius|False|null")]
    [InlineData("search", """{"query":"boots","limit":5,"sort":"price","unit":"Fahrenheit","exact":true,"note":"n"}""", "boots|5|price|Fahrenheit|True|n")]
    public async Task Execute_ParameterShape_BindsTypedValues(string tool, string arguments, string expected)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        ToolCallRecord record = await harness.CallAsync(tool, arguments);

        Assert.Equal(ToolCallStatus.Succeeded, record.Status);
        Assert.Equal(expected, record.Output);
    }

    [Fact]
    public async Task Execute_NullForOptionalArgument_UsesDefault()
    {
        // Strict mode makes optional parameters required and nullable; null then means "use the default".
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>().ConfigureTools(o => o.StrictSchemas = true));

        ToolCallRecord record = await harness.CallAsync(
            "search", """{"query":"boots","limit":null,"sort":null,"unit":null,"exact":null,"note":null}""");

        Assert.Equal("boots|null|relevance|Celsius|False|null", record.Output);
    }

    [Fact]
    public async Task Execute_InjectedParameters_BoundFromTheCallAndScope()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());
        await using AsyncServiceScope scope = harness.Provider.CreateAsyncScope();
        var request = new ToolCallRequest("call_abc", "injected", """{ "value": "v" }""");

        var records = await harness.Executor.ExecuteAsync([request], ToolHarness.ScopeFor(scope.ServiceProvider, "run_42"), CancellationToken.None);

        using JsonDocument output = JsonDocument.Parse(Assert.Single(records).Output);
        JsonElement root = output.RootElement;
        Assert.Equal("v", root.GetProperty("value").GetString());
        Assert.True(root.GetProperty("cancellable").GetBoolean());
        Assert.Equal("conversation-1", root.GetProperty("ConversationKey").GetString());
        Assert.Equal("thread_1", root.GetProperty("ThreadId").GetString());
        Assert.Equal("run_42", root.GetProperty("RunId").GetString());
        Assert.Equal("call_abc", root.GetProperty("ToolCallId").GetString());
        Assert.Equal("injected", root.GetProperty("ToolName").GetString());
        Assert.Equal("""{ "value": "v" }""", root.GetProperty("ArgumentsJson").GetString());
        Assert.True(root.GetProperty("hasServices").GetBoolean());
    }

    [Fact]
    public async Task Execute_ServiceProviderParameter_IsTheRunScope()
    {
        IServiceProvider? seen = null;
        await using var harness = ToolHarness.Create(kit => kit.AddTool("scope", (IServiceProvider services) => { seen = services; }));
        await using AsyncServiceScope scope = harness.Provider.CreateAsyncScope();

        await harness.CallAsync(scope.ServiceProvider, "scope", "{}");

        Assert.Same(scope.ServiceProvider, seen);
    }
}
