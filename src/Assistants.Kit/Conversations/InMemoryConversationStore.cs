using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Assistants.Kit;

/// <summary>
/// The default <see cref="IConversationStore"/>: bindings in process memory (lost on restart). Thread-safe, with the
/// same optimistic concurrency as the durable stores.
/// </summary>
public sealed class InMemoryConversationStore : IConversationStore
{
    private readonly ConcurrentDictionary<(string Key, AssistantsProtocol Protocol), ConversationBinding> _bindings = new();
    private readonly ConcurrentDictionary<(string Name, AssistantsProtocol Protocol), AssistantRecord> _assistants = new();
    private readonly TimeProvider _timeProvider;

    /// <summary>Initializes a new instance of the <see cref="InMemoryConversationStore"/> class.</summary>
    /// <param name="timeProvider">The clock for <see cref="ConversationBinding.UpdatedAt"/>; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public InMemoryConversationStore(TimeProvider? timeProvider = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public ValueTask<ConversationBinding?> GetAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        return ValueTask.FromResult(_bindings.TryGetValue((conversationKey, protocol), out var binding) ? binding : null);
    }

    /// <inheritdoc />
    public ValueTask<ConversationBinding> SaveAsync(ConversationBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentException.ThrowIfNullOrEmpty(binding.ConversationKey);
        var key = (binding.ConversationKey, binding.Protocol);
        var now = _timeProvider.GetUtcNow();
        while (true)
        {
            if (_bindings.TryGetValue(key, out var current))
            {
                if (binding.FencingToken < current.FencingToken)
                {
                    throw new ConversationFencedException(binding.ConversationKey, binding.FencingToken, current.FencingToken);
                }

                if (current.Version != binding.Version)
                {
                    throw new ConversationConcurrencyException(binding.ConversationKey, binding.Protocol, binding.Version, current.Version);
                }

                var updated = binding with { Version = current.Version + 1, UpdatedAt = now };
                if (_bindings.TryUpdate(key, updated, current))
                {
                    return ValueTask.FromResult(updated);
                }
            }
            else
            {
                if (binding.Version != 0)
                {
                    throw new ConversationConcurrencyException(binding.ConversationKey, binding.Protocol, binding.Version, 0);
                }

                var created = binding with
                {
                    Version = 1,
                    UpdatedAt = now,
                    CreatedAt = binding.CreatedAt == default ? now : binding.CreatedAt,
                };
                if (_bindings.TryAdd(key, created))
                {
                    return ValueTask.FromResult(created);
                }
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        return ValueTask.FromResult(_bindings.TryRemove((conversationKey, protocol), out _));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ConversationBinding> ListAsync(AssistantsProtocol? protocol = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var binding in _bindings.Values.OrderBy(b => b.ConversationKey, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (protocol is null || binding.Protocol == protocol)
            {
                yield return binding;
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<AssistantRecord?> GetAssistantAsync(string name, AssistantsProtocol protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ValueTask.FromResult(_assistants.TryGetValue((name, protocol), out var record) ? record : null);
    }

    /// <inheritdoc />
    public ValueTask SaveAssistantAsync(AssistantRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        _assistants[(record.Name, record.Protocol)] = record;
        return ValueTask.CompletedTask;
    }
}
