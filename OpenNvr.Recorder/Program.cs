using OpenNvr.Recorder.Apis;
using OpenNvr.Recorder.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseProblemResponses();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapFramesApi();
app.UseLiveApi();

app.Run();
