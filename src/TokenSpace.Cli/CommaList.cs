using System.Globalization;
using TokenSpace.Vectors;

namespace TokenSpace.Cli;

/// <summary>The one way a comma-separated option value (<c>--words "king, queen"</c>, <c>--vector 0.1,0.2</c>) is split.</summary>
static class CommaList
{
    /// <summary>
    /// The keys of a list: each item exactly as written when <paramref name="vectors"/> has that key (a GPT-2
    /// key such as <c>" king"</c> starts with a space), else with the spaces around it trimmed
    /// (<c>"king, queen"</c> → king, queen); items empty after trimming are dropped.
    /// </summary>
    public static string[] Keys(string list, KeyedVectors vectors) =>
        list.Split(',').Select(item => vectors.Contains(item) ? item : item.Trim()).Where(item => item.Length > 0).ToArray();

    /// <summary>The numbers of a list (spaces around each allowed), each finite.</summary>
    /// <exception cref="ArgumentException">An item is not a finite number; the message names <paramref name="option"/>.</exception>
    public static double[] Numbers(string list, string option) =>
        list.Split(',').Select(item =>
            double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
                : throw new ArgumentException($"{option}: '{item.Trim()}' is not a finite number")).ToArray();
}
