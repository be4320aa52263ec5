using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Tests.Files;

/// <summary>Compares JSON by value (the serializer escapes <c>+</c> and non-ASCII characters; the text does not matter).</summary>
internal static class FileJson
{
    public static void Equal(string expected, JsonNode? actual) =>
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), actual?.ToJsonString());
}
