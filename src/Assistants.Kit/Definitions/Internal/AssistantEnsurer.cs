using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Diagnostics;
using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Assistants.Kit.Definitions.Internal;

/// <summary>An assistant the kit made sure exists on the server.</summary>
internal sealed record EnsuredAssistant(string Id, string Version, AssistantSpec Spec);

/// <summary>
/// Makes an assistant definition exist on the server, idempotently: by the ID in the kit's store, else by the
/// definition's name and hash kept in the assistant's metadata (listing is paged with no metadata filter, so the kit
/// scans, then caches per process); creates it when missing, updates it when the definition changed. Two processes
/// racing converge: after creating, the kit lists again, keeps the oldest (<c>created_at</c>, then ID), deletes the others.
/// </summary>
internal sealed class AssistantEnsurer
{
    public const string NameKey = "kit_def_name";
    public const string VersionKey = "kit_def_version";

    private readonly IProtocolBackend _backend;
    private readonly IConversationStore _store;
    private readonly IToolCallExecutor _tools;
    private readonly AssistantsKitOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, EnsuredAssistant> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    // The spec (wire body, tool schemas, version hash) of each definition instance, rebuilt only when the definition
    // changed since (definitions are mutable): every turn needs it, and building it serializes and hashes the body.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<AssistantDefinition, DefinitionSnapshot> _specs = [];

    public AssistantEnsurer(
        IProtocolBackend backend,
        IConversationStore store,
        IOptions<AssistantsKitOptions> options,
        TimeProvider timeProvider,
        ILogger<AssistantRunner> logger,
        IToolCallExecutor tools)
    {
        _backend = backend;
        _store = store;
        _tools = tools;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public AssistantSpec BuildSpec(AssistantDefinition definition)
    {
        if (_specs.TryGetValue(definition, out var known) && known.Matches(definition))
        {
            return known.Spec;
        }

        var spec = BuildSpecCore(definition);
        _specs.AddOrUpdate(definition, new DefinitionSnapshot(definition, spec));
        return spec;
    }

    private AssistantSpec BuildSpecCore(AssistantDefinition definition)
    {
        IReadOnlyList<FunctionToolSpec> tools;
        try
        {
            tools = definition.Tools.Count == 0 ? _tools.Tools : _tools.GetTools(definition.Tools);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The assistant definition '{definition.Name}' names tools that are not registered: {ex.Message}", ex);
        }

        var model = string.IsNullOrWhiteSpace(definition.Model) ? _options.DefaultModel : definition.Model;
        var metadata = new Dictionary<string, string>(definition.Metadata, StringComparer.Ordinal);
        var provisional = new AssistantSpec(definition, model, tools, string.Empty, metadata);
        var version = ComputeVersion(provisional);
        metadata[NameKey] = definition.Name;
        metadata[VersionKey] = version;
        return provisional with { Version = version, Metadata = metadata };
    }

    /// <summary>The definition's version: a hash of everything that goes on the wire except the kit's own metadata.</summary>
    internal static string ComputeVersion(AssistantSpec spec)
    {
        var body = AssistantsProtocolBackend.AssistantBody(spec, includeModel: true);
        if (body["metadata"] is JsonObject metadata)
        {
            metadata.Remove(NameKey);
            metadata.Remove(VersionKey);
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString()));
        return Convert.ToHexStringLower(hash)[..16];
    }

    public void Invalidate(string name) => _cache.TryRemove(name, out _);

    public async Task<EnsuredAssistant> EnsureAsync(AssistantDefinition definition, CancellationToken cancellationToken)
    {
        var spec = BuildSpec(definition);
        if (_cache.TryGetValue(definition.Name, out var cached) && cached.Version == spec.Version)
        {
            return cached;
        }

        var gate = _locks.GetOrAdd(definition.Name, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cache.TryGetValue(definition.Name, out cached) && cached.Version == spec.Version)
            {
                return cached;
            }

            var ensured = await EnsureCoreAsync(spec, cancellationToken).ConfigureAwait(false);
            _cache[definition.Name] = ensured;
            await _store.SaveAssistantAsync(
                new AssistantRecord(definition.Name, _backend.Protocol, ensured.Id, ensured.Version, _timeProvider.GetUtcNow()),
                cancellationToken).ConfigureAwait(false);
            return ensured;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<EnsuredAssistant> EnsureCoreAsync(AssistantSpec spec, CancellationToken cancellationToken)
    {
        var name = spec.Definition.Name;

        // 1. The ID the kit stored.
        var record = await _store.GetAssistantAsync(name, _backend.Protocol, cancellationToken).ConfigureAwait(false);
        if (record is not null)
        {
            var server = await _backend.GetAssistantAsync(record.AssistantId, cancellationToken).ConfigureAwait(false);
            if (server is not null)
            {
                return await UpToDateAsync(server, spec, cancellationToken).ConfigureAwait(false);
            }

            KitLog.AssistantMissing(_logger, record.AssistantId, name);
        }

        // 2. Scan the server for an assistant carrying this definition's name (prefer the same version, then the newest).
        var candidates = await FindByNameAsync(name, cancellationToken).ConfigureAwait(false);
        var sameVersion = Oldest(candidates.Where(c => c.Metadata.GetValueOrDefault(VersionKey) == spec.Version));
        if (sameVersion is not null)
        {
            return new EnsuredAssistant(sameVersion.Id, spec.Version, spec);
        }

        var newest = candidates.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id, StringComparer.Ordinal).FirstOrDefault();
        if (newest is not null)
        {
            return await UpToDateAsync(newest, spec, cancellationToken).ConfigureAwait(false);
        }

        // 3. Create, then converge with anyone who raced us.
        using var activity = StartCreateAgent(spec);
        var created = await _backend.CreateAssistantAsync(spec, cancellationToken).ConfigureAwait(false);
        activity?.SetTag(KitTelemetry.AgentId, created.Id);
        KitLog.AssistantCreated(_logger, created.Id, name, spec.Version);
        var all = await FindByNameAsync(name, cancellationToken).ConfigureAwait(false);
        var same = all.Where(c => c.Metadata.GetValueOrDefault(VersionKey) == spec.Version).ToList();
        if (same.All(c => c.Id != created.Id))
        {
            same.Add(created);
        }

        var keep = Oldest(same)!;
        foreach (var duplicate in same.Where(c => c.Id != keep.Id))
        {
            if (await _backend.DeleteAssistantAsync(duplicate.Id, cancellationToken).ConfigureAwait(false))
            {
                KitLog.AssistantDuplicateDeleted(_logger, duplicate.Id, name, keep.Id);
            }
        }

        return new EnsuredAssistant(keep.Id, spec.Version, spec);
    }

    private async Task<EnsuredAssistant> UpToDateAsync(ServerAssistant server, AssistantSpec spec, CancellationToken cancellationToken)
    {
        if (server.Metadata.GetValueOrDefault(VersionKey) == spec.Version)
        {
            return new EnsuredAssistant(server.Id, spec.Version, spec);
        }

        using var activity = StartCreateAgent(spec);
        activity?.SetTag(KitTelemetry.AgentId, server.Id);
        var updated = await _backend.UpdateAssistantAsync(server.Id, spec, cancellationToken).ConfigureAwait(false);
        KitLog.AssistantUpdated(_logger, updated.Id, spec.Definition.Name, spec.Version);
        return new EnsuredAssistant(updated.Id, spec.Version, spec);
    }

    private Activity? StartCreateAgent(AssistantSpec spec)
    {
        if (_backend.Protocol == AssistantsProtocol.Responses)
        {
            return null; // the definition is sent with every response: nothing is created on the server
        }

        var activity = KitTelemetry.Source.StartActivity("create_agent " + spec.Definition.Name, ActivityKind.Client);
        activity?.SetTag(KitTelemetry.OperationName, "create_agent");
        activity?.SetTag(KitTelemetry.ProviderName, KitTelemetry.Provider(OpenAIClientProvider.ResolveEndpoint(_options)));
        activity?.SetTag(KitTelemetry.AgentName, spec.Definition.Name);
        activity?.SetTag(KitTelemetry.RequestModel, spec.Model);
        activity?.SetTag("gen_ai.agent.version", spec.Version);
        return activity;
    }

    private async Task<List<ServerAssistant>> FindByNameAsync(string name, CancellationToken cancellationToken)
    {
        var found = new List<ServerAssistant>();
        await foreach (var assistant in _backend.ListAssistantsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (assistant.Metadata.GetValueOrDefault(NameKey) == name)
            {
                found.Add(assistant);
            }
        }

        return found;
    }

    private static ServerAssistant? Oldest(IEnumerable<ServerAssistant> assistants) =>
        assistants.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>A definition's settings when its spec was built (strings are immutable: compared by value, no copies).</summary>
    private sealed class DefinitionSnapshot(AssistantDefinition d, AssistantSpec spec)
    {
        private readonly string _name = d.Name;
        private readonly string? _model = d.Model;
        private readonly string? _instructions = d.Instructions;
        private readonly string? _description = d.Description;
        private readonly float? _temperature = d.Temperature;
        private readonly float? _topP = d.TopP;
        private readonly string? _reasoningEffort = d.ReasoningEffort;
        private readonly string? _responseFormat = d.ResponseFormat;
        private readonly bool _codeInterpreter = d.CodeInterpreter;
        private readonly bool _fileSearch = d.FileSearch;
        private readonly string[] _tools = [.. d.Tools];
        private readonly string[] _vectorStoreIds = [.. d.VectorStoreIds];
        private readonly KeyValuePair<string, string>[] _metadata = [.. d.Metadata];

        public AssistantSpec Spec { get; } = spec;

        public bool Matches(AssistantDefinition d) =>
            string.Equals(_name, d.Name, StringComparison.Ordinal)
            && string.Equals(_model, d.Model, StringComparison.Ordinal)
            && string.Equals(_instructions, d.Instructions, StringComparison.Ordinal)
            && string.Equals(_description, d.Description, StringComparison.Ordinal)
            && _temperature == d.Temperature
            && _topP == d.TopP
            && string.Equals(_reasoningEffort, d.ReasoningEffort, StringComparison.Ordinal)
            && string.Equals(_responseFormat, d.ResponseFormat, StringComparison.Ordinal)
            && _codeInterpreter == d.CodeInterpreter
            && _fileSearch == d.FileSearch
            && SameList(_tools, d.Tools)
            && SameList(_vectorStoreIds, d.VectorStoreIds)
            && SameMetadata(d.Metadata);

        private static bool SameList(string[] known, IList<string> now)
        {
            if (known.Length != now.Count)
            {
                return false;
            }

            for (var i = 0; i < known.Length; i++)
            {
                if (!string.Equals(known[i], now[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        private bool SameMetadata(IDictionary<string, string> now)
        {
            if (_metadata.Length != now.Count)
            {
                return false;
            }

            foreach (var (key, value) in _metadata)
            {
                if (!now.TryGetValue(key, out var current) || !string.Equals(value, current, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
