namespace Assistants.Kit;

/// <summary>
/// Marks a method of a tool class as a function tool the model can call. Register the class explicitly with
/// <see cref="AssistantsKitToolsBuilderExtensions.AddTools{T}(IAssistantsKitBuilder)"/> or
/// <see cref="AssistantsKitToolsBuilderExtensions.AddTools(IAssistantsKitBuilder, object)"/>; assemblies are never scanned.
/// </summary>
/// <remarks>
/// <para>
/// Describe the method's parameters (and, optionally, its return value) with
/// <see cref="System.ComponentModel.DescriptionAttribute"/>; the descriptions become part of the JSON schema the model sees.
/// Parameters of type <see cref="CancellationToken"/>, <see cref="ToolCallContext"/> and <see cref="IServiceProvider"/>
/// are supplied by the kit and never appear in the schema.
/// </para>
/// <para>
/// A tool method may return <see langword="void"/>, a value, <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>. A <see cref="string"/> result is sent to the model as is,
/// any other result is serialized to JSON, and <see langword="void"/>/<see cref="Task"/>/<see cref="ValueTask"/> methods
/// send <see cref="ToolOutputs.Acknowledgement"/>.
/// </para>
/// <para>
/// The registration is validated when the kit's tool registry is first built (host start with <c>ValidateOnStart</c>, or the
/// first resolution of the kit's services): an invalid name, a duplicate name, a non-public or open generic method, or a
/// <c>ref</c>/<c>out</c>/<c>in</c> parameter fails with a message that names the method.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class AssistantToolAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="AssistantToolAttribute"/> class.</summary>
    /// <param name="name">
    /// The tool name the model uses; it must match <c>^[A-Za-z0-9_-]{1,64}$</c> and be unique among the registered tools.
    /// </param>
    public AssistantToolAttribute(string name)
    {
        Name = name;
    }

    /// <summary>Gets the tool name the model uses, for example <c>get_order_status</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets or sets the description the model sees. When <see langword="null"/>, the method's
    /// <see cref="System.ComponentModel.DescriptionAttribute"/> is used, if any.
    /// </summary>
    public string? Description { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether running the tool twice with the same arguments is harmless. When a run
    /// is resumed after a crash, a call whose output was not journaled is executed again only when its tool is
    /// idempotent; otherwise the model gets an error output and observers are told. Default: <see langword="false"/>.
    /// </summary>
    public bool Idempotent { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every call needs a person's approval before it runs (see
    /// <see cref="AssistantRunner.ApproveAsync"/>; a predicate can be set with <c>ConfigureTool</c>). Default: <see langword="false"/>.
    /// </summary>
    public bool RequiresApproval { get; set; }
}
