using OpenNvr.Inference.Apis;
using OpenNvr.Inference.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddInferenceOpenApi();

var app = builder.Build();

app.UseProblemResponses();
app.UseSharedKeys();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapApplicationEndpoints();

app.Run();
