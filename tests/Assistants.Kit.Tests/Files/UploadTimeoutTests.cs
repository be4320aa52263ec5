using Assistants.Kit.Http.Internal;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Files;

namespace Assistants.Kit.Tests.Files;

/// <summary>
/// Uploads have their own timeout policy: the resilience timeouts and the client's network timeout bound the time to the
/// response headers, which for an upload includes sending the body, so the upload client uses the long upload timeout.
/// </summary>
public sealed class UploadTimeoutTests
{
    [Theory]
    [InlineData("resilience")]
    [InlineData("network")]
    public async Task SlowUpload_OutlastsTheShortTimeouts_OnTheUploadClient(string shortTimeouts)
    {
        // Real time on purpose: the server answers the upload 1.5 s after receiving it, past the short timeouts.
        await using var kit = await FilesKit.StartAsync(o =>
        {
            if (shortTimeouts == "resilience")
            {
                o.Http.TotalRequestTimeout = TimeSpan.FromMilliseconds(500);
                o.Http.AttemptTimeout = TimeSpan.FromMilliseconds(500);
            }
            else
            {
                o.Http.NetworkTimeout = TimeSpan.FromMilliseconds(500);
            }

            o.Http.UploadTimeout = TimeSpan.FromSeconds(30);
            o.Http.MaxRetryAttempts = 0;
        });
        kit.Emulator.Faults.On("POST", "/files").Every().Delay(TimeSpan.FromSeconds(1.5));

        var uploaded = await kit.Files().UploadAsync(FileSource.FromText(FilesKit.Handbook, "handbook.md"), AttachmentTools.FileSearch);

        Assert.StartsWith("file-", uploaded.Id, StringComparison.Ordinal);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/files"));

        // The same upload on the ordinary client dies at the short timeout: that is what the upload client avoids.
        var ordinary = kit.Services.GetRequiredService<OpenAIClientProvider>().Files;
        var failure = await Record.ExceptionAsync(() => ordinary.UploadFileAsync(BinaryData.FromString("x"), "x.txt", FileUploadPurpose.Assistants));
        Assert.True(
            failure is Polly.Timeout.TimeoutRejectedException or OperationCanceledException or System.ClientModel.ClientResultException { Status: 0 },
            $"expected a timeout, got {failure}");
    }

    [Fact]
    public async Task Upload_IsBoundedByTheUploadTimeout()
    {
        await using var kit = await FilesKit.StartAsync(o =>
        {
            o.Http.UploadTimeout = TimeSpan.FromMilliseconds(300);
            o.Http.MaxRetryAttempts = 0;
        });
        kit.Emulator.Faults.On("POST", "/files").Every().Delay(TimeSpan.FromSeconds(5));

        var ex = await Assert.ThrowsAsync<AssistantsServerException>(() => kit.Files().UploadAsync(FileSource.FromText("x", "x.txt"), AttachmentTools.FileSearch));

        Assert.Equal("timeout", ex.ErrorCode);
    }
}
