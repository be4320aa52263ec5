using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Tests.Support;

/// <summary>
/// Compares two JSON documents by shape, recursively, path by path: the same property names, the same JSON type at each
/// path, and array elements of the same shape. Values (IDs, timestamps, text, numbers) may differ.
/// </summary>
/// <remarks>
/// Arrays: every element the emulator returned must have the shape of some recorded element of the same array (the best
/// match is reported); recorded elements with no emulator counterpart are not required (a recorded list may hold other
/// objects, e.g. the account's older assistants, or code_interpreter steps the emulator does not produce). When either
/// side is empty there is no element to compare.
/// </remarks>
internal static class JsonShape
{
    public static List<string> Compare(JsonNode? recorded, JsonNode? actual, string path = "$")
    {
        var diffs = new List<string>();
        Walk(recorded, actual, path, diffs);
        return diffs;
    }

    public static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
        _ => "?",
    };

    private static void Walk(JsonNode? recorded, JsonNode? actual, string path, List<string> diffs)
    {
        var recordedKind = Kind(recorded);
        var actualKind = Kind(actual);
        if (recordedKind != actualKind)
        {
            diffs.Add($"{path}: type recorded {recordedKind}, emulator {actualKind}");
            return;
        }

        switch (recorded)
        {
            case JsonObject r:
                {
                    var a = (JsonObject)actual!;
                    foreach (var (key, value) in r)
                    {
                        if (!a.ContainsKey(key))
                        {
                            diffs.Add($"{path}.{key}: missing in emulator");
                        }
                        else
                        {
                            Walk(value, a[key], $"{path}.{key}", diffs);
                        }
                    }

                    foreach (var (key, _) in a)
                    {
                        if (!r.ContainsKey(key))
                        {
                            diffs.Add($"{path}.{key}: extra in emulator");
                        }
                    }

                    break;
                }

            case JsonArray r:
                {
                    var a = (JsonArray)actual!;
                    if (r.Count == 0 || a.Count == 0)
                    {
                        return;
                    }

                    foreach (var element in a)
                    {
                        List<string>? best = null;
                        foreach (var candidate in r)
                        {
                            var attempt = new List<string>();
                            Walk(candidate, element, $"{path}[*]", attempt);
                            if (best is null || attempt.Count < best.Count)
                            {
                                best = attempt;
                            }

                            if (best.Count == 0)
                            {
                                break;
                            }
                        }

                        diffs.AddRange(best!);
                    }

                    break;
                }
        }
    }
}

/// <summary>A known, documented difference between the recordings and the emulator that the conformance test tolerates.</summary>
/// <param name="Operation">The operation (<c>METHOD /path/with/*</c>), or <c>*</c> for any.</param>
/// <param name="PathPrefix">The JSON path the difference is at (a diff at or below it is allowed).</param>
/// <param name="Reason">Why: the quirk of the real service, or what the emulator does instead.</param>
internal sealed record Allowance(string Operation, string PathPrefix, string Reason)
{
    public bool Allows(string method, string path, string diff)
    {
        if (Operation != "*")
        {
            var parts = Operation.Split(' ', 2);
            if (!string.Equals(parts[0], method, StringComparison.OrdinalIgnoreCase) || !PatternMatches(parts[1], path))
            {
                return false;
            }
        }

        var at = diff[..diff.IndexOf(':', StringComparison.Ordinal)];
        return at == PathPrefix || at.StartsWith(PathPrefix + ".", StringComparison.Ordinal) || at.StartsWith(PathPrefix + "[", StringComparison.Ordinal);
    }

    private static bool PatternMatches(string pattern, string path)
    {
        var p = pattern.Trim('/').Split('/');
        var s = path.Split('?')[0].Trim('/').Split('/');
        return p.Length == s.Length && p.Zip(s).All(x => x.First == "*" || x.First == x.Second);
    }
}
