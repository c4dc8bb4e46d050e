using OpenNvr.Core.Apis;
using OpenNvr.Core.Exports;
using OpenNvr.Core.Extensions;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Live;
using OpenNvr.Core.WebConsole;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddIntegrations();
builder.AddWebConsole();
builder.AddExports();
builder.AddLiveRelay();
builder.Services.AddCoreOpenApi();

var app = builder.Build();

app.UseProblemResponses();
app.UseWebConsoleFiles();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.UseWebSockets();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapScalarApiReference();

app.MapAuthApi();
app.MapUsersApi();
app.MapCamerasApi();
app.MapRecordingsApi();
app.MapEventsApi();
app.MapAuditApi();
app.MapExportsApi();
app.MapLiveApi();
app.MapInternalApi();
app.MapWebhooksApi();
app.MapMqttApi();
app.MapWebConsole();

app.Run();
