using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Support;

/// <summary>An emulator and a kit pointed at it, for over-the-wire tests. Dispose to stop both.</summary>
internal sealed class EmulatorKit : IAsyncDisposable
{
    private EmulatorKit(AssistantsEmulator emulator, ServiceProvider services, FakeTimeProvider? time)
    {
        Emulator = emulator;
        Services = services;
        Time = time;
    }

    public AssistantsEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public FakeTimeProvider? Time { get; }

    public AssistantRunner Runner => Services.GetRequiredService<AssistantRunner>();

    public IConversationStore Store => Services.GetRequiredService<IConversationStore>();

    public static async Task<EmulatorKit> StartAsync(
        Action<AssistantsKitOptions>? configure = null,
        Action<AssistantsEmulatorOptions>? emulator = null,
        bool fakeTime = false,
        Action<IAssistantsKitBuilder>? kit = null,
        Action<IServiceCollection>? services = null,
        FakeTimeProvider? time = null)
    {
        time ??= fakeTime ? new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture)) : null;
        var emulatorOptions = new AssistantsEmulatorOptions();
        if (time is not null)
        {
            emulatorOptions.TimeProvider = time;
        }

        emulator?.Invoke(emulatorOptions);
        var server = await AssistantsEmulator.StartAsync(emulatorOptions);
        var provider = KitServices.Build(server.BaseUri, o =>
        {
            o.Polling.Jitter = 0;
            configure?.Invoke(o);
        }, time, kit, services);
        return new EmulatorKit(server, provider, time);
    }

    /// <summary>Builds a second, independent kit (its own store and caches) on the same emulator.</summary>
    public ServiceProvider NewKit(Action<AssistantsKitOptions>? configure = null, Action<IAssistantsKitBuilder>? kit = null, Action<IServiceCollection>? services = null) =>
        KitServices.Build(Emulator.BaseUri, o =>
        {
            o.Polling.Jitter = 0;
            configure?.Invoke(o);
        }, Time, kit, services);

    /// <summary>
    /// Awaits <paramref name="task"/> while advancing the fake clock in steps, letting loopback I/O progress in between
    /// (a few real milliseconds per step; the simulated delays never pass in real time).
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> task, TimeSpan step, int maxSteps = 10_000)
    {
        for (var i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await Task.WhenAny(task, Task.Delay(2));
            if (!task.IsCompleted)
            {
                Time!.Advance(step);
            }
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
