using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Greenhouse.Receiver.Api.Auth;

/// <summary>
/// Every gRPC call (and so every JSON-transcoded call on the HTTP port: the same services) needs a
/// ServiceAccount token of a client in <c>Api:Clients</c> with the method's scope: UNAUTHENTICATED
/// (HTTP 401) without a valid token, PERMISSION_DENIED (403) without the scope, UNAVAILABLE (503)
/// when the issuer's keys cannot be fetched. Write-backs and bulk reads (List, WatchChanges) leave
/// an audit line naming the caller and the method, never the data. SyncHealth is open like /metrics
/// and the probes: it carries counters, times and states, no candidate data, and the operator polls
/// it without a token of its own (the NetworkPolicy limits who reaches the port).
/// </summary>
public sealed partial class ApiAuthorizationInterceptor : Interceptor
{
    private const string Service = "greenhouse.receiver.v1.";
    private readonly ApiAuthOptions _options;
    private readonly ServiceAccountTokenValidator _validator;
    private readonly ILogger<ApiAuthorizationInterceptor> _logger;

    public ApiAuthorizationInterceptor(ApiAuthOptions options, ServiceAccountTokenValidator validator, ILogger<ApiAuthorizationInterceptor> logger)
    {
        _options = options;
        _validator = validator;
        _logger = logger;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthorizeAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    /// <summary>The scope a method needs and whether calling it is audited; null for methods of services not listed (refused).</summary>
    public static (ApiScope Scope, bool Audited)? Requirement(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        // "/greenhouse.receiver.v1.Candidates/Get"
        var parts = method.TrimStart('/').Split('/');
        if (parts.Length != 2 || !parts[0].StartsWith(Service, StringComparison.Ordinal))
        {
            return null;
        }
        return (parts[0][Service.Length..], parts[1]) switch
        {
            ("Writeback", _) => (ApiScope.Writeback, true),
            ("Candidates", "WatchChanges") => (ApiScope.Watch, true),
            ("Candidates", "List" or "Query") => (ApiScope.Read, true),
            ("Candidates" or "Integration", _) => (ApiScope.Read, false),
            _ => null,
        };
    }

    /// <summary>Methods anyone who reaches the port may call: health, no candidate data.</summary>
    public static bool IsOpen(string method) =>
        method is not null && method.StartsWith("/" + Service + "SyncHealth/", StringComparison.Ordinal);

    private async Task AuthorizeAsync(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsOpen(context.Method))
        {
            return;
        }
        var http = context.GetHttpContext();
        var requirement = Requirement(context.Method);
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= "Bearer ".Length)
        {
            throw Unauthenticated(http, "a Kubernetes ServiceAccount token is required: Authorization: Bearer <token> (kubectl create token <serviceaccount> --audience " + _options.Audience + ")");
        }
        var check = await _validator.ValidateAsync(header["Bearer ".Length..].Trim(), context.CancellationToken).ConfigureAwait(false);
        if (check.Unavailable)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, check.Problem!));
        }
        if (check.Identity is not { } caller)
        {
            LogRefused(_logger, context.Method, check.Problem!);
            throw Unauthenticated(http, "invalid token: " + check.Problem);
        }
        var client = _options.Clients.FirstOrDefault(c => c.Namespace == caller.Namespace && c.Name == caller.Name);
        if (requirement is not { } needed || client is null || !client.Scopes.Contains(needed.Scope))
        {
            var scope = requirement?.Scope.ToString().ToLowerInvariant() ?? "(none)";
            LogDenied(_logger, caller, context.Method, scope);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                client is null
                    ? $"{caller} is not in spec.api.clients of this integration"
                    : $"{caller} lacks the scope '{scope}' in spec.api.clients"));
        }
        if (needed.Audited)
        {
            LogAudit(_logger, caller, context.Method);
        }
    }

    private static RpcException Unauthenticated(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return new RpcException(new Status(StatusCode.Unauthenticated, detail));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: {Caller} called {Method}")]
    private static partial void LogAudit(ILogger logger, ServiceAccountIdentity caller, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a call of {Method}: {Problem}")]
    private static partial void LogRefused(ILogger logger, string method, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Denied {Caller} a call of {Method} (needs scope {Scope})")]
    private static partial void LogDenied(ILogger logger, ServiceAccountIdentity caller, string method, string scope);
}
