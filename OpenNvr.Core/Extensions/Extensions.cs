using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenNvr.Contracts.Inference;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Cameras;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;
using OpenNvr.Storage;

namespace OpenNvr.Core.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<NvrDbContext>("nvrdb",
            configureDbContextOptions: options =>
            {
                options.UseSnakeCaseNamingConvention();
                NvrDbContext.Configure(options);
            });
        builder.Services.AddMigration<NvrDbContext>(async (db, services) =>
        {
            await AdminSeeder.SeedAsync(db, services);
            await DemoCameraSeeder.SeedAsync(db, services);
        });

        builder.Services.AddHttpContextAccessor();
        builder.Services.ConfigureHttpJsonOptions(options => ConfigureJson(options.SerializerOptions));
        // Malformed bodies and unparsable parameters become 400 problems whose detail says what was wrong.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Request records carry data annotations (OpenNvr.Contracts for the internal API): they are checked before a
        // handler runs, and a failure is a 400 problem whose detail says which field is wrong and why.
        builder.Services.AddValidation();
        builder.Services.Configure<ProblemDetailsOptions>(options => options.CustomizeProblemDetails = context =>
        {
            // Validation problems list their errors by field; the detail repeats them (OpenNVR clients read it). Bare
            // status codes (unmatched routes, wrong media types) still get a detail that says what was wrong.
            context.ProblemDetails.Detail ??= context.ProblemDetails is HttpValidationProblemDetails { Errors.Count: > 0 } validation
                ? ValidationProblems.Detail(validation.Errors)
                : context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => $"No resource at {context.HttpContext.Request.Path}.",
                StatusCodes.Status405MethodNotAllowed => $"{context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}.",
                StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
                StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
                StatusCodes.Status500InternalServerError => "An unexpected error occurred; the trace id identifies it in the logs.",
                _ => context.ProblemDetails.Title,
            };
        });

        builder.Services.AddDataProtection()
            .SetApplicationName("OpenNvr.Core")
            .PersistKeysToDbContext<NvrDbContext>();
        builder.Services.AddSingleton<CameraCredentialProtector>();
        builder.Services.AddSingleton<InferenceTaskCatalog>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        builder.Services.AddHttpClient(InferenceTaskCatalog.HttpClientName, http =>
            {
                http.BaseAddress = new Uri(InferenceUrl(builder.Configuration).TrimEnd('/') + "/");
                // Saving a camera waits for this at most once per 10 s: an unreachable Inference must not hold it up.
                http.Timeout = TimeSpan.FromSeconds(3);
            })
            .AddSharedKey(SharedKeyClientExtensions.InferenceKeyHeader, ServiceKeys.CoreInference)
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddValidatedOptions<CameraOptions>(CameraOptions.Section);
        builder.Services.AddValidatedOptions<DemoCameraOptions>(DemoCameraOptions.Section);
        builder.Services.AddValidatedOptions<RecordingsOptions>(RecordingsOptions.Section);
        builder.Services.AddValidatedOptions<LeaseOptions>(LeaseOptions.Section);
        builder.Services.AddSingleton<Mp4InitSegmentReader>();
        // Chunks and snapshots are read from the recording store. A filesystem store defaults to Recorder:RecordingsRoot,
        // else to the Recorder's own default folder, so that a Core and a Recorder started without settings on one host meet.
        builder.AddRecordingStore();
        builder.Services.AddOptions<StorageOptions>()
            .PostConfigure<IOptions<RecordingsOptions>>((storage, recordings) => storage.Root ??=
                recordings.Value.RecordingsRoot is { Length: > 0 } root ? root : Path.Combine(Path.GetTempPath(), "opennvr", "recordings"));
        builder.Services.AddScoped<RecorderLeaseService>();

        builder.AddAuthentication();
        builder.AddAccountSecurity();
    }

    /// <summary>Where Core reaches Inference: <c>WebConsole:InferenceUrl</c>, else service discovery.</summary>
    public static string InferenceUrl(IConfiguration configuration) =>
        configuration["WebConsole:InferenceUrl"] is { Length: > 0 } url ? url : IInferenceApi.BaseUrl;

    public static void ConfigureJson(JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.DictionaryKeyPolicy = null;
        // "3" is not a number and null is not a name: wrong types are 400s, not silently coerced.
        json.NumberHandling = JsonNumberHandling.Strict;
        json.RespectNullableAnnotations = true;
        json.RespectRequiredConstructorParameters = true;
        json.AllowTrailingCommas = false;
    }

    private static void AddAuthentication(this IHostApplicationBuilder builder)
    {
        var auth = builder.Configuration.GetSection(AuthOptions.Section);
        builder.Services.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        var signingKey = JwtSigningKey.Resolve(auth["JwtSigningKey"], builder.Environment.IsDevelopment());
        builder.Services.AddSingleton(signingKey);
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        builder.Services.AddScoped<LoginService>();
        builder.Services.AddHostedService<SigningKeyWarning>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.Events = ProblemEvents(queryToken: false);
            })
            .AddJwtBearer(AuthPolicies.MediaTokenScheme, options =>
            {
                options.MapInboundClaims = false;
                options.Events = ProblemEvents(queryToken: true);
            });
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenService, IOptions<AuthOptions>>((options, tokens, authOptions) =>
                options.TokenValidationParameters = tokens.ValidationParameters(authOptions.Value.Audience));
        builder.Services.AddOptions<JwtBearerOptions>(AuthPolicies.MediaTokenScheme)
            .Configure<TokenService, IOptions<AuthOptions>>((options, tokens, authOptions) =>
                options.TokenValidationParameters = tokens.ValidationParameters(authOptions.Value.MediaAudience));

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Admin, policy => policy.RequireRole(Roles.Admin))
            .AddPolicy(AuthPolicies.Operator, policy => policy.RequireRole(Roles.Admin, Roles.Operator))
            .AddPolicy(AuthPolicies.Media, policy => policy
                .AddAuthenticationSchemes(SecurityExtensions.BearerOrApiTokenScheme, AuthPolicies.MediaTokenScheme)
                .RequireAuthenticatedUser());

        builder.Services.AddRateLimiter(options =>
        {
            // The permit count is validated at start (Auth:LoginPermitsPerMinute); the limiter reads it when it partitions.
            options.AddPolicy(AuthPolicies.LoginRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.LoginPermitsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            options.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 60;
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"Too many login attempts from this address; retry in {retryAfter} s.",
                        Extensions = { ["retry_after_seconds"] = retryAfter },
                    },
                });
            };
        });
    }

    /// <summary>401 and 403 as problem JSON with a detail, instead of bare status codes.</summary>
    private static JwtBearerEvents ProblemEvents(bool queryToken) => new()
    {
        OnMessageReceived = context =>
        {
            if (queryToken)
            {
                // HLS players and <img> tags cannot send headers: media routes accept ?token=<media token>.
                context.Token = context.Request.Query["token"].FirstOrDefault();
            }

            return Task.CompletedTask;
        },
        OnChallenge = async context =>
        {
            context.HandleResponse();
            if (context.Response.HasStarted)
            {
                return;
            }

            var detail = context.AuthenticateFailure switch
            {
                SecurityTokenExpiredException => "The access token has expired; refresh it or log in again.",
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "The token's signature is invalid.",
                SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted.",
                not null => "The token is invalid.",
                null => queryToken
                    ? "Authentication required: send 'Authorization: Bearer <token>' or a media token in ?token=."
                    : "Authentication required: send 'Authorization: Bearer <token>' obtained at POST /api/v1/auth/login.",
            };
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context.HttpContext,
                ProblemDetails = { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = detail },
            });
        },
        OnForbidden = async context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context.HttpContext,
                ProblemDetails = { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = "Your role does not allow this operation." },
            });
        },
    };
}
