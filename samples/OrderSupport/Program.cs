using Assistants.Kit.Samples;
using OrderSupport;

using var cancellation = SampleConnection.CancelOnCtrlC();
return await OrderSupportApp.RunAsync(
    args,
    SampleConnection.ProcessEnvironment(),
    Console.Out,
    Console.Error,
    Directory.GetCurrentDirectory(),
    isTerminal: !Console.IsInputRedirected,
    Console.In,
    cancellation.Token);
