// A consumer of the packed packages. No OpenAI experimental diagnostic is suppressed here: the kit's public API must
// not expose any OpenAI experimental type. Runs one tool-calling turn on the emulator with the SQLite store.
using System.ComponentModel;
using Assistants.Kit;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;

await using var emulator = await AssistantsEmulator.StartAsync();
emulator.Script.WhenUserMessageContains("weather")
    .CallTools(("get_weather", """{"city":"Paris"}"""))
    .Reply(ctx => "Weather: " + ctx.ToolOutputs["get_weather"]);

var state = Directory.CreateTempSubdirectory("assistants-kit-consumer-");
var services = new ServiceCollection();
services.AddLogging();
services.AddAssistantsKit(o => o.Endpoint = emulator.BaseUri)
    .AddTools<WeatherTools>()
    .AddSqliteStore(Path.Combine(state.FullName, "conversations.db"));
await using (var provider = services.BuildServiceProvider())
{
    var runner = provider.GetRequiredService<AssistantRunner>();
    var result = await runner.RunAsync("consumer", "What is the weather in Paris?");
    Console.WriteLine($"{result.Status}: {result.Text} | {result.Usage} | {result.Cost}");
    if (result.Status != RunStatus.Completed || !result.Text.Contains("sunny", StringComparison.Ordinal) || result.Cost?.Cost is null)
    {
        return 1;
    }
}

state.Delete(recursive: true);
return 0;

internal sealed class WeatherTools
{
    [AssistantTool("get_weather", Description = "Gets the weather for a city.")]
    public static string GetWeather([Description("The city.")] string city) => $"sunny in {city}";
}
