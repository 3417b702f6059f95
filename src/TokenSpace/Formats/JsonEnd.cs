using System.Text.Json;

namespace TokenSpace.Formats;

/// <summary>What may follow a JSON document that a reader has just read to its end.</summary>
static class JsonEnd
{
    /// <summary>
    /// True when anything but whitespace follows the top-level value: a second document appended,
    /// or garbage after the first.
    /// </summary>
    public static bool HasTrailingData(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.Read();
        }
        catch (JsonException)
        {
            return true; // the reader refuses a second value after the first
        }
    }
}
