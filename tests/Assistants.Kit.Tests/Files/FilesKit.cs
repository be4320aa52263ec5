using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Tests.Files;

/// <summary>Shared setup of the file tests: an emulator-backed kit with <see cref="AssistantFiles"/> registered.</summary>
internal static class FilesKit
{
    public const string Handbook = """
        # Engineering handbook

        ## Code review
        Every pull request gets a review within one working day. Reviewers check tests first, then naming.

        ## Releases
        We release on Tuesdays. A release needs a green build and a changelog entry.

        ## On-call
        The on-call engineer answers pages within fifteen minutes and writes a short incident note.
        """;

    public static Task<EmulatorKit> StartAsync(
        Action<AssistantsKitOptions>? configure = null,
        Action<AssistantsEmulatorOptions>? emulator = null,
        bool fakeTime = false,
        Action<AssistantFilesOptions>? files = null,
        Action<IAssistantsKitBuilder>? kit = null) =>
        EmulatorKit.StartAsync(
            o =>
            {
                o.Assistant.Name = "mentor";
                o.Assistant.Instructions = "Answer from the handbook.";
                configure?.Invoke(o);
            },
            emulator,
            fakeTime,
            b =>
            {
                b.AddFiles(o =>
                {
                    o.Processing.Jitter = 0;
                    files?.Invoke(o);
                });
                kit?.Invoke(b);
            });

    public static AssistantFiles Files(this EmulatorKit kit) => kit.Services.GetRequiredService<AssistantFiles>();

    public static AssistantFiles Files(this ServiceProvider services) => services.GetRequiredService<AssistantFiles>();
}
