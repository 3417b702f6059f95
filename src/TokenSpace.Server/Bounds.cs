using System.Globalization;
using TokenSpace.Vectors;

namespace TokenSpace.Server;

/// <summary>
/// Reads query parameters once, at the boundary, with their bounds: every value outside them is an
/// <see cref="ApiException"/> naming the parameter, so the handlers behind trust what they get.
/// </summary>
static class Bounds
{
    /// <summary>Most neighbours or candidates a query returns.</summary>
    public const int MaxK = 1000;

    /// <summary>Most keys in one list parameter (<c>words</c>, <c>positive</c>, …).</summary>
    public const int MaxWords = 100;

    /// <summary>Most points a projection maps (<c>top</c>).</summary>
    public const int MaxTop = 100_000;

    /// <summary>Longest key, in UTF-16 code units, a parameter may name.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when absent.</summary>
    public static int Int(string? value, string name, int fallback, int min, int max) => Int(value, name, min, max) ?? fallback;

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], or null when absent.</summary>
    public static int? Int(string? value, string name, int min, int max)
    {
        if (value is null) return null;
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed))
        {
            throw new ApiException(name, $"{name} must be an integer, got '{Clip(value)}'");
        }
        if (parsed < min || parsed > max) throw new ApiException(name, $"{name} must be between {min} and {max}, got {parsed}");
        return (int)parsed;
    }

    /// <summary>A finite number in (<paramref name="above"/>, <paramref name="max"/>], or null when absent.</summary>
    public static double? Double(string? value, string name, double above, double max)
    {
        if (value is null) return null;
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed))
        {
            throw new ApiException(name, $"{name} must be a finite number, got '{Clip(value)}'");
        }
        if (parsed <= above || parsed > max) throw new ApiException(name, $"{name} must be above {above} and at most {max}, got {parsed}");
        return parsed;
    }

    /// <summary>One of <paramref name="allowed"/> (the first when absent).</summary>
    public static string Choice(string? value, string name, params string[] allowed)
    {
        if (value is null) return allowed[0];
        if (!allowed.Contains(value, StringComparer.Ordinal))
        {
            throw new ApiException(name, $"{name} must be one of {string.Join(", ", allowed)}, got '{Clip(value)}'");
        }
        return value;
    }

    /// <summary>One key exactly as written (GPT-2 keys start with a space), at most <see cref="MaxKeyLength"/> long; null when
    /// absent.</summary>
    public static string? Key(string? value, string name)
    {
        if (value is null) return null;
        if (value.Length == 0) throw new ApiException(name, $"{name} is empty; give a key");
        if (value.Length > MaxKeyLength) throw new ApiException(name,
            $"{name} is {value.Length} characters long; keys are at most {MaxKeyLength}");
        return value;
    }

    /// <summary>
    /// A comma-separated list of keys of <paramref name="vectors"/>, split as <c>--words</c> is
    /// (<see cref="KeyText.SplitList"/>), at most <paramref name="max"/> of them; empty when absent.
    /// </summary>
    public static string[] Keys(string? list, string name, KeyedVectors vectors, int max = MaxWords)
    {
        if (list is null) return [];
        if (list.Length > max * (MaxKeyLength + 1)) throw new ApiException(name,
            $"{name} is {list.Length} characters long; at most {max} keys fit");
        string[] keys = KeyText.SplitList(list, vectors);
        if (keys.Length > max) throw new ApiException(name, $"{name} lists {keys.Length} keys; at most {max} are allowed");
        foreach (string key in keys) Key(key, name);
        return keys;
    }

    /// <summary>A comma-separated list of exactly <paramref name="dimensions"/> finite numbers.</summary>
    public static float[] Floats(string list, string name, int dimensions)
    {
        string[] parts = list.Split(',');
        if (parts.Length != dimensions) throw new ApiException(name,
            $"{name} has {parts.Length} numbers; the space has {dimensions} dimensions");
        var values = new float[dimensions];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
            {
                throw new ApiException(name, $"{name}: entry {i + 1} must be a finite number, got '{Clip(parts[i])}'");
            }
        }
        return values;
    }

    /// <summary>Refuses giving more than one of a set of alternative parameters.</summary>
    public static void AtMostOne(params (string Name, bool Given)[] alternatives)
    {
        var given = alternatives.Where(a => a.Given).Select(a => a.Name).ToList();
        if (given.Count > 1) throw new ApiException(given[1],
            $"give only one of {string.Join(", ", alternatives.Select(a => a.Name))}; got {string.Join(" and ", given)}");
    }

    /// <summary>An echo of a bad value short enough for an error message.</summary>
    static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
