using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using Assistants.Kit.Testing.Tests.Support;
using OpenAI;
using OpenAI.Files;

namespace Assistants.Kit.Testing.Tests.Files;

/// <summary>The Files surface: multipart upload, get, list, content, delete — with the official client and raw HTTP.</summary>
public sealed class FilesApiTests
{
    internal static OpenAIFileClient Client(AssistantsEmulator emulator) =>
        new OpenAIClient(new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = emulator.BaseUri, RetryPolicy = new ClientRetryPolicy(0) }).GetOpenAIFileClient();

    [Fact]
    public async Task Upload_WithTheOfficialClient_StoresNameBytesAndPurpose()
    {
        await using var d = await RunDriver.StartAsync();
        var client = Client(d.Emulator);

        var file = (await client.UploadFileAsync(BinaryData.FromString("hello, files"), "notes.md", FileUploadPurpose.Assistants)).Value;
        var fetched = (await client.GetFileAsync(file.Id)).Value;
        var listed = (await client.GetFilesAsync(FilePurpose.Assistants)).Value;

        Assert.Matches("^file-[A-Za-z0-9]{22}$", file.Id);
        Assert.Equal(("notes.md", 12L, FilePurpose.Assistants, RunDriver.Start), (fetched.Filename, fetched.SizeInBytesLong, fetched.Purpose, fetched.CreatedAt));
        Assert.Equal([file.Id], listed.Select(f => f.Id));
        Assert.Equal(1, d.Emulator.Requests.Count("POST", "/files"));
    }

    [Fact]
    public async Task Upload_BinaryContent_IsKeptByteForByte_AndRenderedAsRecorded()
    {
        await using var d = await RunDriver.StartAsync();
        byte[] bytes = [0, 1, 2, 255, 254, 13, 10, 0x89, (byte)'P'];
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("assistants"), "purpose");
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "file", "blob.bin");

        using var response = await d.Http.PostAsync("files", form);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(
            $$"""{"object":"file","id":"{{body.Str("id")}}","purpose":"assistants","filename":"blob.bin","bytes":9,"created_at":{{RunDriver.StartSeconds}},"expires_at":null,"status":"processed","status_details":null}""",
            body.ToJsonString());
    }

    [Fact]
    public async Task Content_OfAnAssistantsUpload_IsRefused_AsOnTheService()
    {
        await using var d = await RunDriver.StartAsync();
        var client = Client(d.Emulator);
        var file = (await client.UploadFileAsync(BinaryData.FromString("x"), "a.txt", FileUploadPurpose.Assistants)).Value;

        var (status, body) = await d.Http.GetJsonAsync($"/files/{file.Id}/content");

        Assert.Equal(400, status);
        Assert.Equal("""{"error":{"message":"Not allowed to download files of purpose: assistants","type":"invalid_request_error","param":null,"code":null}}""", body!.ToJsonString());
    }

    [Fact]
    public async Task Upload_Errors_AndMissingFiles_AnswerInOpenAIsEnvelope()
    {
        await using var d = await RunDriver.StartAsync();
        using var noPurpose = new MultipartFormDataContent { { new ByteArrayContent([1]), "file", "a.txt" } };
        using var badPurpose = new MultipartFormDataContent { { new StringContent("chat"), "purpose" }, { new ByteArrayContent([1]), "file", "a.txt" } };
        using var noFile = new MultipartFormDataContent { { new StringContent("assistants"), "purpose" } };

        var missingPurpose = await SendAsync(d, noPurpose);
        var invalidPurpose = await SendAsync(d, badPurpose);
        var missingFile = await SendAsync(d, noFile);
        var json = await d.Http.PostJsonAsync("/files", new { purpose = "assistants" });
        var (notFound, notFoundBody) = await d.Http.GetJsonAsync("/files/file-nope");

        Assert.Equal((400, "Missing required parameter: 'purpose'."), missingPurpose);
        Assert.Equal((400, "Invalid value: 'chat'. Supported values are: 'assistants', 'batch', 'fine-tune', 'vision', 'user_data', and 'evals'."), invalidPurpose);
        Assert.Equal((400, "Missing required parameter: 'file'."), missingFile);
        Assert.Equal(400, json.Status);
        Assert.Equal((404, "No such File object: file-nope"), (notFound, notFoundBody.Str("error.message")));
    }

    [Fact]
    public async Task Delete_RemovesTheFile()
    {
        await using var d = await RunDriver.StartAsync();
        var client = Client(d.Emulator);
        var file = (await client.UploadFileAsync(BinaryData.FromString("x"), "a.txt", FileUploadPurpose.Assistants)).Value;

        var deleted = (await client.DeleteFileAsync(file.Id)).Value;
        var (status, _) = await d.Http.GetJsonAsync($"/files/{file.Id}");

        Assert.True(deleted.Deleted);
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task Files_SurviveARestart_WithStatePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"emulator-files-{Guid.NewGuid():N}.json");
        try
        {
            string id;
            await using (var first = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { StatePath = path }))
            {
                id = (await Client(first).UploadFileAsync(BinaryData.FromString("persisted"), "p.txt", FileUploadPurpose.Assistants)).Value.Id;
            }

            await using var second = await AssistantsEmulator.StartAsync(new AssistantsEmulatorOptions { StatePath = path });
            var file = (await Client(second).GetFileAsync(id)).Value;
            Assert.Equal(("p.txt", 9L), (file.Filename, file.SizeInBytesLong));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<(int Status, string Message)> SendAsync(RunDriver d, HttpContent content)
    {
        using var response = await d.Http.PostAsync("files", content);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(), documentOptions: default)!;
        return ((int)response.StatusCode, body.Str("error.message"));
    }
}
