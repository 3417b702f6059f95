using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace TokenSpace.Server;

/// <summary>
/// The explorer's web host: Kestrel serving the JSON API (<see cref="Api"/>), the OpenAPI document at
/// <c>/openapi/v1.json</c> and the page's static files, with the security rules of the issue: loopback by
/// default, only the host names of the address it listens on (no DNS rebinding), bounded requests, a
/// Content-Security-Policy without inline script, and no CORS.
/// </summary>
public static class Explorer
{
    /// <summary>The Content-Security-Policy of every answer: scripts, styles and data only from the server itself.</summary>
    public const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Longest request line (path and query) accepted: room for a 4,096-dimension <c>vector=</c>.</summary>
    const int MaxRequestLine = 64 * 1024;

    /// <summary>True for <c>localhost</c> and loopback addresses: only this machine can connect.</summary>
    public static bool IsLoopback(string host) => host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>A host that serves <paramref name="options"/> (call <c>Build</c>, then start it); tests swap Kestrel for an in-process
    /// server.</summary>
    /// <exception cref="ArgumentException">The host is neither an IP address nor <c>localhost</c>, or the port is out of range.</exception>
    public static IHostBuilder CreateHostBuilder(ExplorerOptions options)
    {
        if (options.Host != "localhost" && !IPAddress.TryParse(options.Host, out _))
        {
            throw new ArgumentException($"--host must be an IP address (127.0.0.1, ::1, 0.0.0.0) or localhost, got '{options.Host}'");
        }
        if (options.Port is < 0 or > 65535) throw new ArgumentException($"--port must be between 0 and 65535, got {options.Port}");
        return new HostBuilder()
            // Warnings and errors only, on stderr: stdout carries the one "listening on" line.
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)
                .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace))
            .ConfigureWebHost(web => web
                .UseKestrel(kestrel =>
                {
                    kestrel.AddServerHeader = false;
                    kestrel.Limits.MaxRequestLineSize = MaxRequestLine;
                    kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
                    kestrel.Limits.MaxRequestBodySize = 1024; // every endpoint is a GET
                    kestrel.Limits.MaxConcurrentConnections = 1024;
                    if (options.Host == "localhost") kestrel.ListenLocalhost(options.Port);
                    else kestrel.Listen(IPAddress.Parse(options.Host), options.Port);
                })
                .UseWebRoot(options.WebRoot)
                .ConfigureServices(services => ConfigureServices(services, options))
                .Configure(Configure));
    }

    /// <summary>
    /// Serves until <paramref name="stopping"/> is cancelled or the process gets Ctrl-C / SIGTERM; calls
    /// <paramref name="listening"/> with the page's address (<c>http://HOST:PORT/</c>, the real port when 0 was asked) once it accepts
    /// connections.
    /// </summary>
    public static async Task RunAsync(ExplorerOptions options, Action<string> listening, CancellationToken stopping = default)
    {
        // The first query builds each space's unit rows and int8 copy (seconds for GloVe): pay for it before "listening".
        foreach (var space in options.Spaces.Where(s => s.Vectors.Count >= 2)) space.Vectors.MostSimilar(space.Vectors.Keys[0], 1);
        using var host = CreateHostBuilder(options).UseConsoleLifetime(o => o.SuppressStatusMessages = true).Build();
        await host.StartAsync(stopping);
        string bound = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        string name = options.Host.Contains(':', StringComparison.Ordinal) ? $"[{options.Host}]" : options.Host;
        listening($"http://{name}:{new Uri(bound).Port}/");
        await host.WaitForShutdownAsync(stopping);
    }

    static void ConfigureServices(IServiceCollection services, ExplorerOptions options)
    {
        services.AddRouting();
        services.AddProblemDetails();
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "TokenSpace explorer API";
            document.Info.Description = "Queries over the embedding spaces `tokenspace serve` loaded; errors are " +
                "application/problem+json " +
                "naming the parameter.";
            return Task.CompletedTask;
        }));
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        services.AddHostFiltering(filter =>
        {
            // A web page elsewhere can point a DNS name at 127.0.0.1; answering only to our own names keeps it out.
            filter.AllowedHosts = IsLoopback(options.Host) ? ["localhost", "127.0.0.1", "[::1]"] : ["*"];
        });
        services.AddSingleton(options);
        services.AddSingleton<Catalog>();
        services.AddSingleton<Projections>();
    }

    static void Configure(IApplicationBuilder app)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            await next(context);
        });
        app.UseHostFiltering();
        app.Use(Problems.Handle);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseRouting();
        app.UseEndpoints(endpoints =>
        {
            Api.Map(endpoints);
            endpoints.MapOpenApi();
        });
    }
}
