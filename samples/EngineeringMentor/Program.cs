using Assistants.Kit.Samples;
using EngineeringMentor;

using var cancellation = SampleConnection.CancelOnCtrlC();
return await EngineeringMentorApp.RunAsync(
    args,
    SampleConnection.ProcessEnvironment(),
    Console.Out,
    Console.Error,
    Directory.GetCurrentDirectory(),
    cancellation.Token);
