namespace TokenSpace.Server;

/// <summary>Turns a refused request into an RFC 9457 <c>application/problem+json</c> answer naming the parameter and why.</summary>
static class Problems
{
    public static async Task Handle(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; nobody is there to answer.
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            var extensions = new Dictionary<string, object?> { ["parameter"] = e.Parameter };
            if (e.Suggestions is { } close) extensions["suggestions"] = close;
            await Write(context, e.Status, e.Message, extensions);
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException && !context.Response.HasStarted)
        {
            // The library refused a combination the bounds let through (say, an axis between two keys with the same vector).
            await Write(context, StatusCodes.Status400BadRequest, e.Message.Split(" (Parameter '")[0], null);
        }
    }

    static Task Write(HttpContext context, int status, string detail, Dictionary<string, object?>? extensions) =>
        TypedResults.Problem(detail, statusCode: status, title: status == StatusCodes.Status404NotFound ? "Not Found" : "Bad Request",
            extensions: extensions).ExecuteAsync(context);
}
