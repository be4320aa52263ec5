using System.ClientModel;
using System.ClientModel.Primitives;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Files.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Internal;
using Assistants.Kit.Protocols.Internal;
using Microsoft.Extensions.Logging;
using OpenAI.Assistants;
using OpenAI.Files;

namespace Assistants.Kit;

/// <summary>
/// Files, vector stores, attachments and tool outputs, over the official <c>OpenAIFileClient</c> and
/// <c>VectorStoreClient</c> on the kit's HTTP stack (uploads on their own client, whose timeout covers sending the body).
/// Register it with <c>AddFiles()</c>. The endpoints are the same for the Assistants and Responses protocols, so
/// everything here works with both, except <see cref="AttachVectorStoreToThreadAsync"/> and message attachments, which
/// are Assistants concepts.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="IngestAsync"/> is idempotent: each file's SHA-256 is kept on its vector store file as the attribute
/// <c>kit_sha256</c> (with the name as <c>kit_file</c>) and the vector store is found again by its metadata
/// <c>kit_vector_store</c>, so ingesting the same files again lists the store and uploads and indexes nothing. Each
/// upload is also recorded in the kit's <see cref="IFileIngestionStore"/> (per vector store name and SHA-256) right after
/// <c>POST /files</c>, so an ingestion that stopped before adding a file to the vector store reuses that upload next
/// time instead of uploading the content again.
/// </para>
/// <para>
/// Limits (<see cref="FileLimits"/>: 512 MB per file, 10,000 files per vector store, the accepted extensions) are
/// checked for every file before anything is uploaded. Per-file processing failures are reported on the result
/// (<see cref="FileIngestionResult.Failures"/>) and logged, never hidden.
/// </para>
/// <para>Thread-safe; one instance per service provider.</para>
/// </remarks>
public sealed partial class AssistantFiles
{
    /// <summary>The vector store file attribute holding the content's SHA-256 (lowercase hex).</summary>
    public const string ContentHashAttribute = "kit_sha256";

    /// <summary>The vector store file attribute holding the file's name.</summary>
    public const string FileNameAttribute = "kit_file";

    /// <summary>The vector store metadata key holding the name the kit finds the store by.</summary>
    public const string VectorStoreNameKey = "kit_vector_store";

    private readonly OpenAIClientProvider _clients;
    private readonly AssistantFilesOptions _options;
    private readonly AssistantsKitOptions _kitOptions;
    private readonly IVectorStorageAccounting _storage;
    private readonly IConversationStore _conversations;
    private readonly IFileIngestionStore _ingestions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    internal AssistantFiles(
        OpenAIClientProvider clients,
        AssistantFilesOptions options,
        AssistantsKitOptions kitOptions,
        IVectorStorageAccounting storage,
        IConversationStore conversations,
        IFileIngestionStore ingestions,
        TimeProvider time,
        ILogger<AssistantFiles> logger)
    {
        _clients = clients;
        _options = options;
        _kitOptions = kitOptions;
        _storage = storage;
        _conversations = conversations;
        _ingestions = ingestions;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets or sets the random source of the poll jitter (tests make it deterministic).</summary>
    internal Func<double> Random { get; set; } = System.Random.Shared.NextDouble;

    /// <summary>Uploads a file from disk with purpose <c>assistants</c>.</summary>
    /// <param name="path">The path; the stored name is its file name.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The uploaded file.</returns>
    /// <exception cref="FileLimitException">The file is larger than 512 MB or no tool accepts its extension.</exception>
    /// <exception cref="AssistantsServerException">The server refused the upload or could not be reached.</exception>
    public Task<UploadedFile> UploadAsync(string path, CancellationToken cancellationToken = default) =>
        UploadAsync(FileSource.FromPath(path), AttachmentTools.None, cancellationToken);

    /// <summary>Uploads a stream (from its current position; the caller keeps it) with purpose <c>assistants</c>.</summary>
    /// <param name="content">The content.</param>
    /// <param name="fileName">The name to store (its extension decides how the tools read it).</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The uploaded file.</returns>
    /// <exception cref="FileLimitException">The file is larger than 512 MB or no tool accepts its extension.</exception>
    /// <exception cref="AssistantsServerException">The server refused the upload or could not be reached.</exception>
    public Task<UploadedFile> UploadAsync(Stream content, string fileName, CancellationToken cancellationToken = default) =>
        UploadAsync(FileSource.FromStream(content, fileName), AttachmentTools.None, cancellationToken);

    /// <summary>
    /// Uploads a file with purpose <c>assistants</c>, checking it against the limits of the tools it is for first
    /// (<see cref="AttachmentTools.None"/>: either tool).
    /// </summary>
    /// <param name="source">The file.</param>
    /// <param name="tools">The tools the file is for.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The uploaded file.</returns>
    /// <exception cref="FileLimitException">The file is larger than 512 MB or the tools do not accept its extension.</exception>
    /// <exception cref="AssistantsServerException">The server refused the upload or could not be reached.</exception>
    public async Task<UploadedFile> UploadAsync(FileSource source, AttachmentTools tools, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNull(source);
        FileLimits.Check(source.FileName, source.KnownLength, tools);
        var prepared = await source.PrepareAsync(cancellationToken).ConfigureAwait(false);
        return await TranslateAsync(() => UploadPreparedAsync(prepared, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Gets an uploaded file, or <see langword="null"/> when the server does not know it.</summary>
    /// <param name="fileId">The file ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The file, or <see langword="null"/>.</returns>
    public Task<UploadedFile?> GetFileAsync(string fileId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(fileId);
        return TranslateAsync(async () =>
        {
            try
            {
                var file = (await _clients.Files.GetFileAsync(fileId, cancellationToken).ConfigureAwait(false)).Value;
                return (UploadedFile?)ToUploaded(file, file.Filename, 0);
            }
            catch (ClientResultException ex) when (ex.Status == 404)
            {
                return null;
            }
        });
    }

    /// <summary>Deletes an uploaded file.</summary>
    /// <param name="fileId">The file ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns><see langword="true"/> when it was deleted; <see langword="false"/> when the server did not know it.</returns>
    public Task<bool> DeleteFileAsync(string fileId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(fileId);
        return TranslateAsync(() => DeleteFileCoreAsync(fileId, cancellationToken));
    }

    /// <summary>
    /// Streams a file's content into <paramref name="destination"/> (the protocol download with an unbuffered response,
    /// so a large file never sits in memory). For code interpreter images and generated files; the service refuses to
    /// return files uploaded with purpose <c>assistants</c>.
    /// </summary>
    /// <param name="fileId">The file ID.</param>
    /// <param name="destination">Where to write.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The bytes written.</returns>
    /// <exception cref="AssistantsServerException">The server refused (e.g. 400 for an <c>assistants</c> upload, 404) or could not be reached.</exception>
    public Task<long> DownloadAsync(string fileId, Stream destination, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(fileId);
        _ = Throw.IfNull(destination);
        return TranslateAsync(async () =>
        {
            var result = await _clients.Files.DownloadFileAsync(fileId, new RequestOptions { BufferResponse = false, CancellationToken = cancellationToken }).ConfigureAwait(false);
            using var response = result.GetRawResponse();
            var content = response.ContentStream ?? throw new InvalidOperationException($"The download of file '{fileId}' returned no content stream.");
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                total += read;
            }

            FilesLog.Downloaded(_logger, fileId, total);
            return total;
        });
    }

    /// <summary>Downloads a file to <paramref name="path"/> (written to a temporary file first, then moved; directories created).</summary>
    /// <param name="fileId">The file ID.</param>
    /// <param name="path">The target path; an existing file is replaced.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The bytes written.</returns>
    /// <exception cref="AssistantsServerException">The server refused or could not be reached.</exception>
    public async Task<long> DownloadToFileAsync(string fileId, string path, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(fileId);
        _ = Throw.IfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            long bytes;
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                bytes = await DownloadAsync(fileId, stream, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, full, overwrite: true);
            return bytes;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Downloads every file a run produced (<see cref="RunResultFileExtensions.GetOutputFiles"/>: code interpreter images
    /// and generated files) into <paramref name="directory"/>.
    /// </summary>
    /// <param name="result">The run's result.</param>
    /// <param name="directory">The directory (created when missing).</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The files written.</returns>
    public async Task<IReadOnlyList<SavedOutputFile>> SaveOutputFilesAsync(RunResult result, string directory, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNull(result);
        _ = Throw.IfNullOrWhiteSpace(directory);
        var saved = new List<SavedOutputFile>();
        foreach (var file in result.GetOutputFiles())
        {
            var path = Path.Combine(Path.GetFullPath(directory), file.FileName);
            var bytes = await DownloadToFileAsync(file.FileId, path, cancellationToken).ConfigureAwait(false);
            saved.Add(new SavedOutputFile(file, path, bytes));
        }

        return saved;
    }

    /// <summary>
    /// Attaches a vector store to a thread (<c>tool_resources.file_search.vector_store_ids</c>), so file search on that
    /// thread searches it besides the assistant's. Assistants protocol only; a thread takes one vector store.
    /// </summary>
    /// <param name="threadId">The thread ID (e.g. <see cref="RunResult.ThreadId"/>).</param>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the thread is updated.</returns>
    /// <exception cref="NotSupportedException">The kit speaks the Responses protocol (put the store on the definition instead).</exception>
    public Task AttachVectorStoreToThreadAsync(string threadId, string vectorStoreId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(threadId);
        _ = Throw.IfNullOrWhiteSpace(vectorStoreId);
        if (_kitOptions.Protocol != AssistantsProtocol.Assistants)
        {
            throw new NotSupportedException(
                $"Threads carry tool resources on the Assistants protocol only; with {_kitOptions.Protocol}, list the vector store in AssistantDefinition.VectorStoreIds (it goes on the file_search tool of every response).");
        }

        return TranslateAsync(async () =>
        {
            var resources = new FileSearchToolResources();
            resources.VectorStoreIds.Add(vectorStoreId);
            await _clients.Assistants.ModifyThreadAsync(threadId, new ThreadModificationOptions { ToolResources = new ToolResources { FileSearch = resources } }, cancellationToken).ConfigureAwait(false);
            FilesLog.AttachedToThread(_logger, vectorStoreId, threadId);
            return true;
        });
    }

    /// <summary>
    /// Attaches a vector store to the thread of a conversation key (from the conversation store); see
    /// <see cref="AttachVectorStoreToThreadAsync"/>.
    /// </summary>
    /// <param name="conversationKey">The application's conversation key.</param>
    /// <param name="vectorStoreId">The vector store ID.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The thread ID.</returns>
    /// <exception cref="InvalidOperationException">The conversation has no thread yet (it never ran).</exception>
    public async Task<string> AttachVectorStoreToConversationAsync(string conversationKey, string vectorStoreId, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(conversationKey);
        var binding = await _conversations.GetAsync(conversationKey, _kitOptions.Protocol, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"The conversation '{conversationKey}' has no thread yet: run it once first, attach the file to the message (RunOptions.Attachments), or put the vector store on the assistant definition.");
        await AttachVectorStoreToThreadAsync(binding.ThreadId, vectorStoreId, cancellationToken).ConfigureAwait(false);
        return binding.ThreadId;
    }

    private async Task<UploadedFile> UploadPreparedAsync(PreparedFile prepared, CancellationToken cancellationToken)
    {
        var stream = prepared.Open();
        try
        {
            var file = (await _clients.UploadFiles.UploadFileAsync(stream, prepared.FileName, FileUploadPurpose.Assistants, cancellationToken).ConfigureAwait(false)).Value;
            FilesLog.Uploaded(_logger, file.Id, prepared.FileName, prepared.Length);
            return ToUploaded(file, prepared.FileName, prepared.Length);
        }
        finally
        {
            if (prepared.OwnsStream)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<bool> DeleteFileCoreAsync(string fileId, CancellationToken cancellationToken)
    {
        try
        {
            return (await _clients.Files.DeleteFileAsync(fileId, cancellationToken).ConfigureAwait(false)).Value.Deleted;
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    private static UploadedFile ToUploaded(OpenAIFile file, string? fallbackName, long fallbackBytes) =>
        new(file.Id, file.Filename ?? fallbackName ?? file.Id, file.SizeInBytesLong ?? fallbackBytes, file.CreatedAt);

    /// <summary>Turns the official client's exceptions into the kit's <see cref="AssistantsServerException"/>, without credentials.</summary>
    private Task<T> TranslateAsync<T>(Func<Task<T>> action) => ServerErrors.TranslateAsync(action, _kitOptions.ApiKey);
}
