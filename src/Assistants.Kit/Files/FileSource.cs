using System.Security.Cryptography;
using System.Text;

namespace Assistants.Kit;

/// <summary>
/// A file to upload or ingest: a path, a stream, bytes or text, with the name the service shows (and cites) and optional
/// per-file attributes for the vector store (strings, numbers or booleans).
/// </summary>
public sealed class FileSource
{
    private readonly string? _path;
    private readonly Stream? _stream;
    private readonly ReadOnlyMemory<byte>? _bytes;

    private FileSource(string fileName, string? path, Stream? stream, ReadOnlyMemory<byte>? bytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        FileName = fileName;
        _path = path;
        _stream = stream;
        _bytes = bytes;
    }

    /// <summary>Gets the file name the service stores and cites (e.g. <c>handbook.md</c>).</summary>
    public string FileName { get; }

    /// <summary>Gets attributes stored on this file in the vector store (added to the ingestion's own attributes).</summary>
    public IDictionary<string, object> Attributes { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Gets the size in bytes when it is known without reading (a path, bytes, a seekable stream).</summary>
    internal long? KnownLength => _path is not null ? new FileInfo(_path).Length
        : _bytes is { } bytes ? bytes.Length
        : _stream is { CanSeek: true } stream ? stream.Length - stream.Position
        : null;

    /// <summary>A file on disk; its name is the path's file name unless <paramref name="fileName"/> is given.</summary>
    /// <param name="path">The path.</param>
    /// <param name="fileName">The name to store, if not the path's.</param>
    /// <returns>The source.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static FileSource FromPath(string path, string? fileName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The file '{path}' does not exist.", full);
        }

        return new FileSource(fileName ?? Path.GetFileName(full), full, null, null);
    }

    /// <summary>
    /// A stream, read from its current position (the caller keeps ownership). A non-seekable stream is buffered in
    /// memory while it is hashed.
    /// </summary>
    /// <param name="content">The content.</param>
    /// <param name="fileName">The name to store.</param>
    /// <returns>The source.</returns>
    public static FileSource FromStream(Stream content, string fileName)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new FileSource(fileName, null, content, null);
    }

    /// <summary>Bytes in memory.</summary>
    /// <param name="content">The content.</param>
    /// <param name="fileName">The name to store.</param>
    /// <returns>The source.</returns>
    public static FileSource FromBytes(ReadOnlyMemory<byte> content, string fileName) => new(fileName, null, null, content);

    /// <summary>Text, stored as UTF-8.</summary>
    /// <param name="text">The text.</param>
    /// <param name="fileName">The name to store (its extension decides how the service reads it, e.g. <c>.md</c>).</param>
    /// <returns>The source.</returns>
    public static FileSource FromText(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new FileSource(fileName, null, null, Encoding.UTF8.GetBytes(text));
    }

    /// <inheritdoc />
    public override string ToString() => FileName;

    /// <summary>
    /// Reads the content once: its SHA-256 and size, and a way to open it for the upload. A non-seekable stream is kept
    /// in memory (and refused past <see cref="FileLimits.MaxFileBytes"/> without reading further).
    /// </summary>
    internal async Task<PreparedFile> PrepareAsync(CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (_bytes is { } bytes)
        {
            hash.AppendData(bytes.Span);
            return new PreparedFile(this, Convert.ToHexStringLower(hash.GetHashAndReset()), bytes.Length, () => new MemoryStream(bytes.ToArray(), writable: false), ownsStream: true);
        }

        if (_path is { } path)
        {
            long length;
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (file.ConfigureAwait(false))
            {
                length = await HashAsync(file, hash, null, cancellationToken).ConfigureAwait(false);
            }

            return new PreparedFile(this, Convert.ToHexStringLower(hash.GetHashAndReset()), length, () => File.OpenRead(path), ownsStream: true);
        }

        var stream = _stream!;
        if (stream.CanSeek)
        {
            var start = stream.Position;
            var length = await HashAsync(stream, hash, null, cancellationToken).ConfigureAwait(false);
            return new PreparedFile(this, Convert.ToHexStringLower(hash.GetHashAndReset()), length, () => { stream.Position = start; return stream; }, ownsStream: false);
        }

        var buffer = new MemoryStream();
        var read = await HashAsync(stream, hash, buffer, cancellationToken).ConfigureAwait(false);
        var content = buffer.GetBuffer().AsMemory(0, (int)read);
        return new PreparedFile(this, Convert.ToHexStringLower(hash.GetHashAndReset()), read, () => new MemoryStream(content.ToArray(), writable: false), ownsStream: true);
    }

    private async Task<long> HashAsync(Stream stream, IncrementalHash hash, MemoryStream? copy, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > FileLimits.MaxFileBytes)
            {
                FileLimits.Check(FileName, total, AttachmentTools.None);
            }

            hash.AppendData(buffer, 0, read);
            copy?.Write(buffer, 0, read);
        }

        return total;
    }
}

/// <summary>A source whose content was read once: its hash and size, and how to open it for the upload.</summary>
internal sealed class PreparedFile(FileSource source, string contentHash, long length, Func<Stream> open, bool ownsStream)
{
    public FileSource Source { get; } = source;

    public string FileName => Source.FileName;

    /// <summary>Gets the SHA-256 of the content, lowercase hex.</summary>
    public string ContentHash { get; } = contentHash;

    public long Length { get; } = length;

    /// <summary>Gets whether the stream <see cref="Open"/> returns must be disposed by the caller.</summary>
    public bool OwnsStream { get; } = ownsStream;

    public Stream Open() => open();
}
