namespace TokenSpace.IO;

/// <summary>
/// A file that cannot be read as what it claims to be. The message names the file, the 1-based
/// line or the byte offset where reading failed, and what was expected there.
/// </summary>
public class FileFormatException : FormatException
{
    public FileFormatException(string path, string cause, long? line = null, long? byteOffset = null, Exception? inner = null)
        : base(Compose(path, cause, line, byteOffset), inner)
    {
        FilePath = path;
        Cause = cause;
        Line = line;
        ByteOffset = byteOffset;
    }

    public FileFormatException() : this("", "unreadable file") { }

    public FileFormatException(string message) : this("", message) { }

    public FileFormatException(string message, Exception inner) : this("", message, inner: inner) { }

    /// <summary>The file that failed to read.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong, without the location.</summary>
    public string Cause { get; }

    /// <summary>1-based line number for text formats.</summary>
    public long? Line { get; }

    /// <summary>0-based byte offset for binary formats.</summary>
    public long? ByteOffset { get; }

    static string Compose(string path, string cause, long? line, long? byteOffset)
    {
        string where = line is { } l ? $"{path}:{l}" : byteOffset is { } b ? $"{path}: byte {b}" : path;
        return where.Length == 0 ? cause : $"{where}: {cause}";
    }
}
