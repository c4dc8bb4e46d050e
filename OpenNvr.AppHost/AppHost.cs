using OpenNvr.AppHost;

// The composition root of OpenNVR: which resources exist, what they reference, which secrets they get.
var builder = DistributedApplication.CreateBuilder(args);

var dataRoot = builder.ResolveDataRoot();
var databases = builder.AddNvrDatabases(dataRoot);
var topology = builder.Topology();
var recordingStorage = builder.AddRecordingStorage(dataRoot,
    topology == Topologies.Distributed ? RecordingStorageModes.AzureBlob : RecordingStorageModes.FileSystem);

// Secrets: generated on first run and kept in the app host's user secrets; override with Parameters:<name>.
var adminPassword = builder.AddGeneratedSecret("admin-password", minLength: 20);
var jwtSigningKey = builder.AddGeneratedSecret("jwt-signing-key", minLength: 64);
var inferenceApiKey = builder.AddGeneratedSecret("inference-api-key", minLength: 32);
// One key per pair of services that talk (ServiceKeys in the service defaults): each service holds only its own.
var recorderCoreKey = builder.AddGeneratedSecret("recorder-core-key", minLength: 32);
var recorderInferenceKey = builder.AddGeneratedSecret("recorder-inference-key", minLength: 32);
var coreInferenceKey = builder.AddGeneratedSecret("core-inference-key", minLength: 32);
var hfToken = builder.AddParameter("hf-token", builder.Configuration["Parameters:hf-token"] ?? "", secret: true);
// Prometheus scrapes every service's /metrics with this Bearer key; MQTT clients (Home Assistant) use mqtt-password.
var metricsScrapeKey = builder.AddGeneratedSecret("metrics-scrape-key", minLength: 32);
var mqttPassword = builder.AddGeneratedSecret("mqtt-password", minLength: 24);
var mqtt = builder.MqttSettings();

var recordingsRoot = Path.Combine(dataRoot, "recordings");
var framesRoot = Path.Combine(dataRoot, "frames");

// A fresh system records and analyses something at once: a camera looping the bundled CCTV clip (OpenNvr:DemoCamera=false turns it off).
var demoCameraUrl = builder.DemoCameraUrl();

if (topology == Topologies.Distributed)
{
    builder.AddDistributedServices(dataRoot, databases, recordingStorage,
        new ServiceSecrets(adminPassword, jwtSigningKey, inferenceApiKey, recorderCoreKey, recorderInferenceKey, coreInferenceKey,
            hfToken, metricsScrapeKey, mqttPassword), mqtt, demoCameraUrl);
    builder.ShowAdminPasswordOnFirstRun(adminPassword, dataRoot);
    builder.Build().Run();
    return;
}

var inference = builder.AddProject<Projects.OpenNvr_Inference>("inference")
    .WithDatabase(databases.InferenceDb, databases)
    .WithEnvironment("Inference__ApiKey", inferenceApiKey)
    .WithEnvironment("HuggingFace__Token", hfToken)
    .WithEnvironment("Frames__Root", framesRoot)
    .WithEnvironment("ServiceKeys__RecorderInference", recorderInferenceKey)
    .WithEnvironment("ServiceKeys__CoreInference", coreInferenceKey)
    .WithEnvironment("Metrics__ScrapeKey", metricsScrapeKey)
    .WithHttpHealthCheck("/health");

var core = builder.AddProject<Projects.OpenNvr_Core>("core")
    .WithDatabase(databases.NvrDb, databases)
    .WithEnvironment("Auth__AdminPassword", adminPassword)
    .WithEnvironment("Auth__JwtSigningKey", jwtSigningKey)
    .WithEnvironment("ServiceKeys__RecorderCore", recorderCoreKey)
    .WithEnvironment("Recorder__RecordingsRoot", recordingsRoot)
    .WithRecordingStorage(recordingStorage, recordingsRoot)
    .WithEnvironment("Exports__Root", Path.Combine(dataRoot, "exports"))
    .WithEnvironment("Cameras__AllowFileSources", (demoCameraUrl is not null).ToString())
    .WithEnvironment("Demo__CameraUrl", demoCameraUrl ?? "")
    // The console's faces page goes through Core to Inference; photos travel in the request body (no shared folder).
    .WithReference(inference)
    .WithEnvironment("ServiceKeys__CoreInference", coreInferenceKey)
    .WithEnvironment("Metrics__ScrapeKey", metricsScrapeKey)
    .WithMqtt(mqtt, mqttPassword)
    .WithHttpHealthCheck("/health");

var recorder = builder.AddProject<Projects.OpenNvr_Recorder>("recorder")
    .WithReference(core).WaitFor(core)
    .WithReference(inference).WaitFor(inference)
    .WithEnvironment("ServiceKeys__RecorderCore", recorderCoreKey)
    .WithEnvironment("ServiceKeys__RecorderInference", recorderInferenceKey)
    .WithEnvironment("Recorder__RecordingsRoot", recordingsRoot)
    .WithRecordingStorage(recordingStorage, recordingsRoot)
    .WithEnvironment("Frames__Root", framesRoot)
    .WithEnvironment("Metrics__ScrapeKey", metricsScrapeKey)
    .WithHttpHealthCheck("/health");

// Inference reads frames that are not on its own disk from the Recorder that holds the camera: Core's lease table says
// which one (no WaitFor: that would be a cycle).
inference.WithReference(recorder).WithReference(core);

builder.ShowAdminPasswordOnFirstRun(adminPassword, dataRoot);

builder.Build().Run();
