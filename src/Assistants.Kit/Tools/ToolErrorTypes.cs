namespace Assistants.Kit;

/// <summary>
/// The values of <c>error.type</c> in the error output the kit submits when a tool call cannot produce a result.
/// </summary>
/// <remarks>
/// <para>
/// A failed call never fails the run: the model receives an output of this shape instead and can react to it
/// (see <see cref="ToolOutputs"/> for the full description):
/// </para>
/// <code language="json">
/// {"error":{"type":"invalid_arguments","message":"Missing required argument 'order_id'."}}
/// </code>
/// <para>
/// Instructions may refer to these values, for example "if a tool answers with an error of type <c>timeout</c>, tell the
/// user the system is slow and offer to try again".
/// </para>
/// </remarks>
public static class ToolErrorTypes
{
    /// <summary>
    /// <c>invalid_arguments</c>: the arguments were not a JSON object, a required argument was missing, or an argument had
    /// the wrong type or was <c>null</c> where a value is required. The message says which argument and why.
    /// </summary>
    public const string InvalidArguments = "invalid_arguments";

    /// <summary><c>unknown_tool</c>: the model called a tool that is not registered (or not enabled for this run).</summary>
    public const string UnknownTool = "unknown_tool";

    /// <summary>
    /// <c>handler_exception</c>: the handler threw. The exception's type and message are included only when
    /// <see cref="ToolOptions.IncludeExceptionDetails"/> is <see langword="true"/>.
    /// </summary>
    public const string HandlerException = "handler_exception";

    /// <summary><c>timeout</c>: the handler did not finish within <see cref="ToolOptions.PerCallTimeout"/>.</summary>
    public const string Timeout = "timeout";
}
