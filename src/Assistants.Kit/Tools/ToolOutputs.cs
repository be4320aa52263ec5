namespace Assistants.Kit;

/// <summary>The outputs the kit submits to the model in place of, or around, a handler's own result.</summary>
/// <remarks>
/// <para><b>Results.</b> A <see cref="string"/> result is submitted as is (not JSON-quoted); any other result is serialized
/// with <see cref="ToolOptions.SerializerOptions"/>; a <see langword="null"/> result of a method that declares a result
/// type is submitted as <c>null</c>; methods returning <see langword="void"/>, <see cref="Task"/> or
/// <see cref="ValueTask"/> submit <see cref="Acknowledgement"/>.</para>
/// <para><b>Errors.</b> When a call cannot produce a result, the output is a JSON object of this shape:</para>
/// <code language="json">
/// {"error":{"type":"handler_exception","message":"The tool failed while handling the call."}}
/// </code>
/// <list type="bullet">
///   <item><c>error.type</c> is one of the <see cref="ToolErrorTypes"/> values.</item>
///   <item><c>error.message</c> is a sentence the model can act on (which argument is missing, which tools exist, …).</item>
///   <item><c>error.exception_type</c> (the .NET exception type) is present only for <c>handler_exception</c> when
///   <see cref="ToolOptions.IncludeExceptionDetails"/> is <see langword="true"/>; the message is then the exception's
///   message.</item>
/// </list>
/// <para><b>Truncation.</b> An output longer than <see cref="ToolOptions.MaxOutputLength"/> characters is cut so that,
/// together with a marker starting with <see cref="TruncationMarkerPrefix"/>, it is at most that long:
/// <c>…the first part of the output\n[output truncated: showing 32700 of 50000 characters]</c>.</para>
/// </remarks>
public static class ToolOutputs
{
    /// <summary>The output submitted for a tool method that returns <see langword="void"/>, <see cref="Task"/> or
    /// <see cref="ValueTask"/>: <c>{"ok":true}</c>.</summary>
    public const string Acknowledgement = "{\"ok\":true}";

    /// <summary>The start of the marker appended to a truncated output: <c>[output truncated</c>, preceded by a line feed.</summary>
    public const string TruncationMarkerPrefix = "[output truncated";
}
