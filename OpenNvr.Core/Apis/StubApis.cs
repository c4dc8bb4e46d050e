namespace OpenNvr.Core.Apis;

public static class EventsApi { public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app) => app; }
public static class AuditApi { public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app) => app; }
