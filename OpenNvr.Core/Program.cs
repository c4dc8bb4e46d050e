using OpenNvr.Core.Apis;
using OpenNvr.Core.Exports;
using OpenNvr.Core.Extensions;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Live;
using OpenNvr.Core.WebConsole;

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
app.UseSharedKeys();
app.UseWebConsoleFiles();
app.UseAuthentication();
app.UseAuthorization();
app.UseMfaEnrolment();
app.UseRateLimiter();
app.UseWebSockets();

app.MapDefaultEndpoints();
app.MapCoreOpenApi();

app.MapAuthApi();
app.MapMfaApi();
app.MapApiTokensApi();
app.MapUsersApi();
app.MapCamerasApi();
app.MapZonesApi();
app.MapOccupancyApi();
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
