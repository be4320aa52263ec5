using System.Security.Cryptography;
using System.Text.Json;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The emulator's state and the one lock that guards it. Every request handler runs its whole read-modify-write under
/// <see cref="Sync"/>; the work done there is pure in-memory bookkeeping, so a single lock keeps concurrent clients
/// consistent without measurable contention.
/// </summary>
internal sealed class EmulatorStore
{
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string HexAlphabet = "0123456789abcdef";

    private static readonly JsonSerializerOptions SerializerOptions = new() { WriteIndented = false };

    private readonly TimeProvider _timeProvider;
    private int _runNumber;

    public EmulatorStore(TimeProvider timeProvider, StateData? data = null)
    {
        _timeProvider = timeProvider;
        Data = data ?? new StateData();
    }

    public Lock Sync { get; } = new();

    public StateData Data { get; }

    /// <summary>Incremented by every change to <see cref="Data"/>; the persistence layer writes when it moved.</summary>
    public long Version { get; private set; }

    public DateTimeOffset Now => _timeProvider.GetUtcNow();

    public static long Seconds(DateTimeOffset time) => time.ToUnixTimeSeconds();

    public void Touch() => Version++;

    public long NextSeq() => ++Data.Sequence;

    public int NextRunNumber() => ++_runNumber;

    /// <summary>A new ID in OpenAI's format: the prefix and 24 random alphanumerics, never one handed out before.</summary>
    public string NewId(string prefix)
    {
        while (true)
        {
            var id = prefix + RandomNumberGenerator.GetString(IdAlphabet, 24);
            if (Data.IssuedIds.Add(id))
            {
                return id;
            }
        }
    }

    /// <summary>An ID of <paramref name="length"/> random alphanumerics after the prefix (files: <c>file-</c> and 22), never one handed out before.</summary>
    public string NewAlphanumericId(string prefix, int length)
    {
        while (true)
        {
            var id = prefix + RandomNumberGenerator.GetString(IdAlphabet, length);
            if (Data.IssuedIds.Add(id))
            {
                return id;
            }
        }
    }

    /// <summary>
    /// An ID shaped like the Responses surface's (<c>resp_</c>, <c>msg_</c>, <c>fc_</c>: 50 hex digits; <c>conv_</c>: 48),
    /// random, never one handed out before.
    /// </summary>
    public string NewHexId(string prefix, int digits)
    {
        while (true)
        {
            var id = prefix + RandomNumberGenerator.GetString(HexAlphabet, digits);
            if (Data.IssuedIds.Add(id))
            {
                return id;
            }
        }
    }

    /// <summary>A vector store ID as the real service shapes them (<c>vs_</c> and 32 hex digits).</summary>
    public string NewVectorStoreId()
    {
        while (true)
        {
            var id = "vs_" + RandomNumberGenerator.GetString(HexAlphabet, 32);
            if (Data.IssuedIds.Add(id))
            {
                return id;
            }
        }
    }

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(Data, SerializerOptions);

    public static StateData Deserialize(byte[] utf8) =>
        JsonSerializer.Deserialize<StateData>(utf8, SerializerOptions) ?? throw new JsonException("The state file holds null.");
}

/// <summary>Writes the state file atomically (a temporary file, then a rename) and never goes backwards in version.</summary>
internal sealed class StatePersistence : IDisposable
{
    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _writtenVersion;

    public StatePersistence(string path)
    {
        _path = Path.GetFullPath(path);
    }

    public long WrittenVersion => Volatile.Read(ref _writtenVersion);

    public static StateData? Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            return null;
        }

        try
        {
            return EmulatorStore.Deserialize(File.ReadAllBytes(full));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The emulator state file '{full}' is not a valid state document: {ex.Message}", ex);
        }
    }

    public async Task WriteAsync(byte[] snapshot, long version, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (version <= _writtenVersion)
            {
                return;
            }

            var directory = Path.GetDirectoryName(_path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var temp = $"{_path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(snapshot, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
            Volatile.Write(ref _writtenVersion, version);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
