using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>An error the emulator answers with, in OpenAI's envelope <c>{"error":{message,type,param,code}}</c>.</summary>
internal sealed class ApiException : Exception
{
    public ApiException()
        : this(500, "The server had an error processing your request.", "server_error", null, null)
    {
    }

    public ApiException(string message)
        : this(400, message, "invalid_request_error", null, null)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = 500;
        ErrorType = "server_error";
    }

    public ApiException(int statusCode, string message, string type, string? param, JsonNode? code)
        : base(message)
    {
        StatusCode = statusCode;
        ErrorType = type;
        Param = param;
        Code = code;
    }

    public int StatusCode { get; }

    public string ErrorType { get; } = "invalid_request_error";

    public string? Param { get; }

    public JsonNode? Code { get; }

    public JsonObject ToBody() => ErrorBody(Message, ErrorType, Param, Code?.DeepClone());

    public static JsonObject ErrorBody(string message, string type, string? param, JsonNode? code) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        },
    };

    public static ApiException BadRequest(string message, string? param = null, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static ApiException NotFound(string kind, string id) =>
        new(404, string.Create(CultureInfo.InvariantCulture, $"No {kind} found with id '{id}'."), "invalid_request_error", null, null);

    public static ApiException InvalidUrl(string method, string path) =>
        new(404, string.Create(CultureInfo.InvariantCulture, $"Invalid URL ({method} {path})"), "invalid_request_error", null, null);

    public static ApiException MissingParameter(string param) =>
        BadRequest(string.Create(CultureInfo.InvariantCulture, $"Missing required parameter: '{param}'."), param, "missing_required_parameter");

    public static ApiException UnknownParameter(string param) =>
        BadRequest(string.Create(CultureInfo.InvariantCulture, $"Unknown parameter: '{param}'."), param, "unknown_parameter");

    public static ApiException InvalidType(string param, string expected, JsonNode? got) =>
        BadRequest(
            string.Create(CultureInfo.InvariantCulture, $"Invalid type for '{param}': expected {expected}, but got {Describe(got)} instead."),
            param,
            "invalid_type");

    public static ApiException InvalidValue(string param, string value, IReadOnlyList<string> supported) =>
        BadRequest(
            string.Create(CultureInfo.InvariantCulture, $"Invalid value: '{value}'. Supported values are: {JoinSupported(supported)}."),
            param,
            "invalid_value");

    public static ApiException InvalidJson() =>
        BadRequest(
            "Invalid body: failed to parse JSON value. Please check the value to ensure it is valid JSON. (Common errors include trailing commas, missing closing brackets, missing quotation marks, etc.)",
            null,
            "invalid_json");

    /// <summary>Describes the JSON type of a value the way OpenAI's validator does ("a string", "an object", ...).</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Number => IsInteger(v) ? "an integer" : "a decimal",
            _ => "null",
        },
        _ => "an unknown value",
    };

    private static bool IsInteger(JsonValue value) => value.TryGetValue(out long _);

    private static string JoinSupported(IReadOnlyList<string> supported) => supported.Count switch
    {
        1 => $"'{supported[0]}'",
        2 => $"'{supported[0]}' and '{supported[1]}'",
        _ => string.Join(", ", supported.Take(supported.Count - 1).Select(s => $"'{s}'")) + $", and '{supported[^1]}'",
    };
}
