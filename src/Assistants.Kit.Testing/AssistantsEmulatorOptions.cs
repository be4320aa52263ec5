namespace Assistants.Kit.Testing;

/// <summary>Options of the emulator.</summary>
public sealed class AssistantsEmulatorOptions
{
    /// <summary>Gets or sets the API key requests must carry; <see langword="null"/> accepts any key.</summary>
    public string? ApiKey { get; set; }
}
