using System.Globalization;

namespace TokenSpace.Cli;

/// <summary>How a comma-separated list of numbers (<c>--vector 0.1,0.2</c>) is read; keys split with <see cref="Vectors.KeyText.SplitList"/>.</summary>
static class CommaList
{
    /// <summary>The numbers of a list (spaces around each allowed), each finite.</summary>
    /// <exception cref="ArgumentException">An item is not a finite number; the message names <paramref name="option"/>.</exception>
    public static double[] Numbers(string list, string option) =>
        list.Split(',').Select(item =>
            double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
                : throw new ArgumentException($"{option}: '{item.Trim()}' is not a finite number")).ToArray();
}
