using OpenNvr.Recorder.Apis;
using OpenNvr.Recorder.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddServiceOpenApi("OpenNVR Recorder API",
    "Published frames for Inference replicas on other hosts. Errors are RFC 7807 problem JSON.",
    new Dictionary<string, string> { ["Frames"] = "Frames the Recorder published for analytics" }, defaultScheme: null);

var app = builder.Build();

app.UseProblemResponses();
app.UseSharedKeys();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapFramesApi();
app.UseLiveApi();

app.Run();
