namespace Assistants.Kit;

/// <summary>What happens to approvals nobody decides in time.</summary>
public enum ApprovalExpiryPolicy
{
    /// <summary>Nothing: on the Assistants protocol the run expires on the server (about 10 minutes); the approval is closed as expired.</summary>
    None,

    /// <summary>The approval service rejects the call shortly before it would expire (the model is told, the run continues).</summary>
    AutoReject,

    /// <summary>
    /// The approval service cancels the run shortly before it would expire. On the Responses protocol nothing waits on
    /// the server (the response that asked for the tool has finished), so the call is rejected instead, as with
    /// <see cref="AutoReject"/>.
    /// </summary>
    AutoCancel,
}

/// <summary>Settings of human-in-the-loop approval gates (see <c>ToolPolicy.RequiresApproval</c>).</summary>
public sealed class ApprovalOptions
{
    /// <summary>
    /// Gets or sets how long an approval may wait when the server sets no expiry (the Responses protocol, where nothing
    /// expires server-side). Default: 24 hours.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets what the approval service (<c>AddApprovalExpiryService</c>) does before an approval expires. Default: <see cref="ApprovalExpiryPolicy.None"/>.</summary>
    public ApprovalExpiryPolicy ExpiryPolicy { get; set; } = ApprovalExpiryPolicy.None;

    /// <summary>Gets or sets how long before the expiry the approval service acts. Default: 1 minute.</summary>
    public TimeSpan ExpiryMargin { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how often the approval service looks for approvals about to expire. Default: 15 seconds.</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromSeconds(15);
}
