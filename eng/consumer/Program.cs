// A consumer of the packed packages: no OpenAI experimental diagnostics are suppressed here, so the kit's public API
// must not expose any OpenAI experimental type.
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

var services = new ServiceCollection();
var builder = services.AddAssistantsKit();
Console.WriteLine($"kit registered: {builder.Services.Count >= 0}; emulator options: {new AssistantsEmulatorOptions().ApiKey is null}");
return 0;
