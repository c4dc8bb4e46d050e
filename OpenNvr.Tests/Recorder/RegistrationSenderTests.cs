using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Internal;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;

namespace OpenNvr.Tests.Recorder;

/// <summary>The outbox against the real Core: a chunk Core refuses is dead-lettered, its neighbours still land.</summary>
public sealed class RegistrationSenderTests
{
    [Fact]
    public async Task A_refused_chunk_goes_to_the_dead_letter_file_and_the_rest_of_its_batch_is_registered()
    {
        await using var core = await CoreServer.StartAsync();
        var camera = await core.CreateCameraAsync("dead-letter", "rtsp://127.0.0.1:9/none");
        ChunkRegistration Chunk(int minute, double start, double end) =>
            new(camera, $"{camera}/2026-11-27/13/{minute:D2}-00.mp4", start, end, end - start, 1000, "h264", 768, 576);
        var first = Chunk(0, 1000, 1010);
        var refused = Chunk(1, 1020, 1010); // ends before it starts: Core answers 400
        var third = Chunk(2, 1020, 1030);
        var dir = TestTemp.NewFolder("dead-letter");
        using var outbox = new ChunkOutbox(dir);
        foreach (var chunk in new[] { first, refused, third })
        {
            outbox.Append(chunk);
        }

        using var http = core.Internal();
        var sender = new RegistrationSender(outbox, new CoreClient(Refit.RestService.ForGenerated<ICoreInternalApi>(http, ContractJson.RefitSettings())), Options.Create(new RecorderOptions()), TimeProvider.System, NullLogger<RegistrationSender>.Instance);
        await sender.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => outbox.Depth == 0, TimeSpan.FromSeconds(20), "the outbox to drain", pollMs: 100);
        await sender.StopAsync(CancellationToken.None);

        using var query = await http.PostAsJsonAsync("/api/v1/internal/recordings/query", new { camera_id = camera, limit = 500 });
        var indexed = (await query.Content.ReadFromJsonAsync<JsonObject>())!["recordings"]!.AsArray().Select(r => (string)r!["path"]!).ToList();
        Assert.Equal([first.Path, third.Path], indexed);
        var deadLetters = await File.ReadAllLinesAsync(Path.Combine(dir, "rejected.jsonl"));
        Assert.Contains(refused.Path, Assert.Single(deadLetters), StringComparison.Ordinal);
    }
}
