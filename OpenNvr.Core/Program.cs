using OpenNvr.Core.Apis;
using OpenNvr.Core.Extensions;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.Services.AddOpenApi(options => options.AddDocumentTransformer<BearerSecuritySchemeTransformer>());

var app = builder.Build();

app.UseProblemResponses();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapScalarApiReference();

app.MapAuthApi();
app.MapUsersApi();
app.MapCamerasApi();
app.MapRecordingsApi();
app.MapEventsApi();
app.MapAuditApi();
app.MapInternalApi();

app.Run();
