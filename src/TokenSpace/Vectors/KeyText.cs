using System.Globalization;
using System.Text;

namespace TokenSpace.Vectors;

/// <summary>How a key is shown to a person: a token that is a space or a newline must not be an empty cell or a broken line.</summary>
public static class KeyText
{
    /// <summary>
    /// <paramref name="key"/> with every invisible character made visible: a space as <c>␣</c>, a newline as <c>↵</c>,
    /// a tab as <c>⇥</c>, any other control, format or white-space character as <c>\u{hex}</c>
    /// (<c>"\r"</c> → <c>\u{d}</c>, a zero-width space → <c>\u{200b}</c>). Other text is unchanged.
    /// </summary>
    /// <example><code>KeyText.Visible(" king") // "␣king"</code></example>
    public static string Visible(string key)
    {
        int first = 0;
        while (first < key.Length && !Invisible(key[first])) first++;
        if (first == key.Length) return key;
        var sb = new StringBuilder(key, 0, first, key.Length + 8);
        for (int i = first; i < key.Length; i++)
        {
            char c = key[i];
            if (!Invisible(c)) sb.Append(c);
            else if (c == ' ') sb.Append('\u2423');
            else if (c == '\n') sb.Append('\u21B5');
            else if (c == '\t') sb.Append('\u21E5');
            else sb.Append(CultureInfo.InvariantCulture, $"\\u{{{(int)c:x}}}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The keys of a comma-separated list, the one way the CLI and the explorer split one: each item exactly as
    /// written when <paramref name="vectors"/> has that key (a GPT-2 key such as <c>" king"</c> starts with a space),
    /// else with the spaces around it trimmed (<c>"king, queen"</c> → king, queen); items empty after trimming are dropped.
    /// </summary>
    public static string[] SplitList(string list, KeyedVectors vectors) =>
        list.Split(',').Select(item => vectors.Contains(item) ? item : item.Trim()).Where(item => item.Length > 0).ToArray();

    static bool Invisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
