namespace TokenSpace.Server;

/// <summary>A request the API refuses: becomes an <c>application/problem+json</c> answer naming <see cref="Parameter"/>.</summary>
/// <param name="parameter">The query parameter at fault.</param>
/// <param name="detail">What is wrong with it, for a person.</param>
/// <param name="status">400 for a malformed or out-of-bounds value, 404 for a space or key that does not exist.</param>
sealed class ApiException(string parameter, string detail, int status = StatusCodes.Status400BadRequest) : Exception(detail)
{
    public string Parameter { get; } = parameter;

    public int Status { get; } = status;

    /// <summary>Close spellings of an unknown key, when that is the fault.</summary>
    public IReadOnlyList<string>? Suggestions { get; init; }
}
