namespace Assistants.Kit;

/// <summary>Options of one migration call (<see cref="ThreadMigrator.MigrateThreadAsync"/>, <see cref="ThreadMigrator.MigrateAsync"/>).</summary>
public sealed class MigrationOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether nothing is written: the source and the target are only read (no
    /// conversation is created, no item written, no metadata updated, no binding or mapping saved) and the reports say
    /// what would be done (<see cref="ThreadMigrationStatus.WouldMigrate"/>). Default: <see langword="false"/>.
    /// </summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a conversation key's Responses binding is switched to the new
    /// conversation once its thread is fully carried (keyed migrations only). Default: <see langword="true"/>.
    /// </summary>
    public bool SwitchBindings { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the run steps of the runs that wrote the carried assistant messages are
    /// read, to report the tool calls (function, code interpreter with its outputs, file search) that are not carried.
    /// Costs one request per run. Default: <see langword="true"/>.
    /// </summary>
    public bool InspectRunSteps { get; set; } = true;

    /// <summary>
    /// Gets the file IDs of the source server mapped to the IDs of the same files on the target server. Files belong
    /// to a server: an image file of a user message is carried (as <c>input_image</c> with the target's
    /// <c>file_id</c>) only when its file is mapped here; otherwise it is reported as a source-only file. The migrator
    /// does not copy file contents; copy the files first (download from the source, upload to the target) and fill
    /// this map.
    /// </summary>
    public IDictionary<string, string> FileIdMap { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets a receiver of progress (thread started, batch carried, thread finished); called inline, keep it fast.</summary>
    public IProgress<MigrationProgress>? Progress { get; set; }
}
