namespace Assistants.Kit.Testing.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Options_DefaultToAnyKey() => Assert.Null(new AssistantsEmulatorOptions().ApiKey);
}
