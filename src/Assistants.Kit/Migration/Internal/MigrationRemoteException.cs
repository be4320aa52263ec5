using System.ClientModel;
using Assistants.Kit.Protocols.Internal;
using Polly.Timeout;

namespace Assistants.Kit.Migration.Internal;

/// <summary>
/// A request to one of the two servers failed for good (after the HTTP layer's retries and the reconciler). The message
/// is the kit's translation of the error with both keys redacted.
/// </summary>
internal sealed class MigrationRemoteException : Exception
{
    private MigrationRemoteException(MigrationEndpoint endpoint, int status, bool endpointFailure, string message)
        : base(message)
    {
        Endpoint = endpoint;
        Status = status;
        IsEndpointFailure = endpointFailure;
    }

    public MigrationEndpoint Endpoint { get; }

    public int Status { get; }

    /// <summary>Gets a value indicating whether the server could not be reached at all or refused the credentials (401/403).</summary>
    public bool IsEndpointFailure { get; }

    /// <summary>Whether <paramref name="exception"/> is a failure of the remote call (as opposed to a bug or a caller cancellation).</summary>
    public static bool IsRemote(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        ClientResultException or HttpRequestException or IOException or TimeoutRejectedException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    public static MigrationRemoteException From(MigrationEndpoint endpoint, Exception exception, string? apiKey, string? otherApiKey)
    {
        var translated = exception is ClientResultException cre
            ? ServerErrors.Translate(cre, apiKey)
            : ServerErrors.Transport(exception, apiKey);
        var message = ServerErrors.Redact(translated.Message, otherApiKey);
        var endpointFailure = translated.Status is 401 or 403 || ResponsesProtocolBackend.NeverSent(exception);
        return new MigrationRemoteException(endpoint, translated.Status, endpointFailure, $"{endpoint}: {message}");
    }
}

/// <summary>A thread that cannot be migrated now (busy, missing, claimed by another migrator); the message says why.</summary>
internal sealed class MigrationConflictException(string message) : Exception(message);
