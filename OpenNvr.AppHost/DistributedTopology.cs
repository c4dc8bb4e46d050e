namespace OpenNvr.AppHost;

/// <summary>
/// The secrets the app host hands to the services (generated on first run, kept in user secrets): one key per pair of
/// services that talk (<c>ServiceKeys</c> in the service defaults), the metrics scrape key and the MQTT password.
/// </summary>
internal sealed record ServiceSecrets(
    IResourceBuilder<ParameterResource> AdminPassword,
    IResourceBuilder<ParameterResource> JwtSigningKey,
    IResourceBuilder<ParameterResource> InferenceApiKey,
    IResourceBuilder<ParameterResource> RecorderCoreKey,
    IResourceBuilder<ParameterResource> RecorderInferenceKey,
    IResourceBuilder<ParameterResource> CoreInferenceKey,
    IResourceBuilder<ParameterResource> HfToken,
    IResourceBuilder<ParameterResource> MetricsScrapeKey,
    IResourceBuilder<ParameterResource> MqttPassword);

/// <summary>
/// <c>OpenNvr:Topology</c>: <c>single</c> (default: one host, a shared recordings folder) or <c>distributed</c>: every
/// service as if on its own host, so that the dashboard shows (and the manifest deploys) a multi-host system:
/// PostgreSQL, the recording store in Azure Blob Storage (Azurite locally), Core, two Inference replicas and two
/// Recorders, each Recorder with its own data root (<c>&lt;data root&gt;/recorder-N/</c>: its local chunk cache and
/// published frames). No path is given to two services: Core serves media from the blob store, Core sends face photos
/// to Inference in the request body, and Inference reads a camera's frames from the Recorder that holds the camera
/// (Core's lease table says which, at the address the Recorder announces: <c>Recorder:BaseUrl</c>).
/// </summary>
internal static class Topologies
{
    public const string Single = "single";
    public const string Distributed = "distributed";
    public const int RecorderCount = 2;
    public const int InferenceReplicas = 2;

    public static string Topology(this IDistributedApplicationBuilder builder) =>
        builder.Configuration["OpenNvr:Topology"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or Single => Single,
            Distributed => Distributed,
            var other => throw new InvalidOperationException($"OpenNvr:Topology '{other}' is not one of {Single}, {Distributed}."),
        };

    public static void AddDistributedServices(this IDistributedApplicationBuilder builder, string dataRoot, NvrDatabases databases,
        RecordingStorage storage, ServiceSecrets secrets, MqttSettings mqtt, string? demoCameraUrl)
    {
        if (storage.BlobStore is null)
        {
            throw new InvalidOperationException(
                $"OpenNvr:Topology={Distributed} keeps recordings in blob storage: Storage:Provider must be {RecordingStorageModes.AzureBlob} (this topology's default).");
        }

        // Replicas share the face registry through PostgreSQL; any replica can serve any request.
        var inference = builder.AddProject<Projects.OpenNvr_Inference>("inference")
            .WithReplicas(InferenceReplicas)
            .WithDatabase(databases.InferenceDb, databases)
            .WithEnvironment("Inference__ApiKey", secrets.InferenceApiKey)
            .WithEnvironment("HuggingFace__Token", secrets.HfToken)
            .WithEnvironment("ServiceKeys__RecorderInference", secrets.RecorderInferenceKey)
            .WithEnvironment("ServiceKeys__CoreInference", secrets.CoreInferenceKey)
            .WithEnvironment("Metrics__ScrapeKey", secrets.MetricsScrapeKey)
            .WithHttpHealthCheck("/health");

        var core = builder.AddProject<Projects.OpenNvr_Core>("core")
            .WithDatabase(databases.NvrDb, databases)
            .WithEnvironment("Auth__AdminPassword", secrets.AdminPassword)
            .WithEnvironment("Auth__JwtSigningKey", secrets.JwtSigningKey)
            .WithEnvironment("ServiceKeys__RecorderCore", secrets.RecorderCoreKey)
            .WithRecordingStorage(storage, fileSystemRoot: "")
            // Core's own folder: finished clip exports (chunks come from the blob store).
            .WithEnvironment("Exports__Root", Path.Combine(dataRoot, "core", "exports"))
            .WithEnvironment("Cameras__AllowFileSources", (demoCameraUrl is not null).ToString())
            .WithEnvironment("Demo__CameraUrl", demoCameraUrl ?? "")
            .WithReference(inference)
            .WithEnvironment("ServiceKeys__CoreInference", secrets.CoreInferenceKey)
            .WithEnvironment("Metrics__ScrapeKey", secrets.MetricsScrapeKey)
            .WithMqtt(mqtt, secrets.MqttPassword)
            .WithHttpHealthCheck("/health");

        // Inference asks Core which Recorder holds a camera (no WaitFor: that would be a cycle).
        inference.WithReference(core);

        for (var n = 1; n <= RecorderCount; n++)
        {
            var name = $"recorder-{n}";
            var root = Path.Combine(dataRoot, name);
            var recorder = builder.AddProject<Projects.OpenNvr_Recorder>(name)
                .WithReference(core).WaitFor(core)
                .WithReference(inference).WaitFor(inference)
                .WithEnvironment("ServiceKeys__RecorderCore", secrets.RecorderCoreKey)
                .WithEnvironment("ServiceKeys__RecorderInference", secrets.RecorderInferenceKey)
                .WithEnvironment("Recorder__RecorderId", name)
                .WithEnvironment("Recorder__RecordingsRoot", Path.Combine(root, "recordings"))
                .WithRecordingStorage(storage, Path.Combine(root, "recordings"))
                .WithEnvironment("Frames__Root", Path.Combine(root, "frames"))
                .WithEnvironment("Metrics__ScrapeKey", secrets.MetricsScrapeKey)
                .WithHttpHealthCheck("/health");
            // The address Core hands out for this Recorder's frames (its own endpoint, reachable from the others).
            recorder.WithEnvironment("Recorder__BaseUrl", recorder.GetEndpoint("http"));
        }
    }
}
