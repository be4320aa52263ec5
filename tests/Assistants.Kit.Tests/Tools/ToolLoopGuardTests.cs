using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Tests.Tools;

public sealed class ToolLoopGuardTests
{
    [Fact]
    public void Observe_MoreRoundsThanAllowed_StopsWithMaxToolRounds()
    {
        var guard = new ToolLoopGuard(maxToolRounds: 3, maxIdenticalCalls: 3);

        for (int round = 1; round <= 3; round++)
        {
            Assert.False(guard.Observe([Call("lookup", $$"""{"page":{{round}}}""")]).ShouldStop);
        }

        ToolLoopVerdict verdict = guard.Observe([Call("lookup", """{"page":4}""")]);

        Assert.True(verdict.ShouldStop);
        Assert.Equal(ToolLoopStopReason.MaxToolRounds, verdict.StopReason);
        Assert.Null(verdict.ToolName);
        Assert.Equal(4, guard.Rounds);
        Assert.Contains("at most 3 tool rounds", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Observe_SameToolSameArgumentsDifferentKeyOrderAndWhitespace_StopsOnTheNthTime()
    {
        var guard = new ToolLoopGuard(maxToolRounds: 10, maxIdenticalCalls: 3);

        Assert.Equal(ToolLoopVerdict.Continue, guard.Observe([Call("get_order_status", """{"order_id":"A-1","verbose":true}""")]));
        Assert.Equal(ToolLoopVerdict.Continue, guard.Observe([Call("get_order_status", """{ "verbose" : true ,  "order_id" : "A-1" }""")]));
        ToolLoopVerdict verdict = guard.Observe([Call("get_order_status", "{\n  \"order_id\": \"\\u0041-1\",\n  \"verbose\": true\n}")]);

        Assert.Equal(ToolLoopStopReason.RepeatedCall, verdict.StopReason);
        Assert.Equal("get_order_status", verdict.ToolName);
        Assert.Contains("'get_order_status' with the same arguments 3 times", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Observe_IdenticalCallsWithinOneRound_Count()
    {
        var guard = new ToolLoopGuard(maxToolRounds: 10, maxIdenticalCalls: 2);

        ToolLoopVerdict verdict = guard.Observe([Call("ping", "{}"), Call("ping", "")]);

        Assert.Equal(ToolLoopStopReason.RepeatedCall, verdict.StopReason);
    }

    [Fact]
    public void Observe_DifferentArgumentsOrTools_Continue()
    {
        var guard = new ToolLoopGuard(maxToolRounds: 10, maxIdenticalCalls: 2);

        Assert.False(guard.Observe([Call("a", """{"x":1}""")]).ShouldStop);
        Assert.False(guard.Observe([Call("a", """{"x":2}""")]).ShouldStop);
        Assert.False(guard.Observe([Call("b", """{"x":1}""")]).ShouldStop);
        Assert.False(guard.Observe([Call("a", """{"x":[1]}""")]).ShouldStop);
        Assert.False(guard.Observe([Call("a", """{"x":"1"}""")]).ShouldStop);
    }

    [Fact]
    public void Options_Defaults_TenRoundsThreeIdenticalCalls()
    {
        var guard = new ToolLoopGuard(new ToolOptions());

        for (int round = 1; round <= 10; round++)
        {
            Assert.False(guard.Observe([Call("lookup", $$"""{"page":{{round}}}""")]).ShouldStop);
        }

        Assert.Equal(ToolLoopStopReason.MaxToolRounds, guard.Observe([]).StopReason);
    }

    [Theory]
    [InlineData("""{"b":1,"a":[true,null,{"d":"x","c":2}]}""", """{"a":[true,null,{"c":2,"d":"x"}],"b":1}""")]
    [InlineData(""" { "a" : 1.50 , "b" : 1e2 , "c": 10 } """, """{"a":1.5,"b":100,"c":10}""")]
    [InlineData("""{"a":"\u00e9\"<"}""", """{"a":"\u00E9\u0022\u003C"}""")]
    [InlineData("", "{}")]
    [InlineData(" not json ", "not json")]
    public void Canonicalize_EquivalentTextsMatch(string json, string expected) =>
        Assert.Equal(expected, CanonicalJson.Canonicalize(json));

    private static ToolCallRequest Call(string name, string arguments) => new($"call_{Guid.NewGuid():N}", name, arguments);
}
