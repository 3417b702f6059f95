using System.Globalization;
using System.Text;
using TokenSpace.Vectors;

namespace TokenSpace.Plotting;

/// <summary>Small pieces shared by the SVG writers: escaping, number formatting, colours.</summary>
static class Svg
{
    /// <summary>The font stack of every text element.</summary>
    public const string Font = "DejaVu Sans, Helvetica, Arial, sans-serif";

    /// <summary>Tableau 10: distinct, colour-blind-aware categorical colours.</summary>
    public static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>
    /// A colour for each group name that does not depend on the picture: the name's FNV-1a hash (of its UTF-8 bytes)
    /// picks a colour of <see cref="Palette"/>, so "vowel" is the same colour in every map. When two names of one
    /// picture pick the same colour, the later in ordinal order takes the next free one (more names than colours:
    /// colours repeat).
    /// </summary>
    public static Dictionary<string, string> GroupColours(IEnumerable<string> names)
    {
        var colours = new Dictionary<string, string>(StringComparer.Ordinal);
        var taken = new bool[Palette.Length];
        foreach (string name in names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            uint hash = 2166136261;
            foreach (byte b in Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 16777619;
            int at = (int)(hash % (uint)Palette.Length);
            for (int probe = 0; probe < Palette.Length && taken[at]; probe++) at = (at + 1) % Palette.Length;
            taken[at] = true;
            colours[name] = Palette[at];
        }
        return colours;
    }

    /// <summary>The colour of points outside any group.</summary>
    public const string Ungrouped = "#7f7f7f";

    /// <summary>
    /// Escapes text for XML content and attribute values. Characters XML 1.0 cannot hold at all (most
    /// control characters, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, so any token stays a valid document.
    /// With <paramref name="visibleWhitespace"/>, invisible characters are shown first (<see cref="KeyText.Visible"/>:
    /// ␣ ↵ ⇥, \u{hex}): a token made of whitespace would otherwise be an invisible label.
    /// </summary>
    public static string Escape(string text, bool visibleWhitespace = false)
    {
        if (visibleWhitespace) text = KeyText.Visible(text);
        var sb = new StringBuilder(text.Length);
        for (int t = 0; t < text.Length; t++)
        {
            char c = text[t];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                default:
                    if (char.IsHighSurrogate(c) && t + 1 < text.Length && char.IsLowSurrogate(text[t + 1]))
                    {
                        sb.Append(c).Append(text[++t]);
                    }
                    else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || char.IsSurrogate(c) || c == '\uFFFE' || c == '\uFFFF')
                    {
                        sb.Append('\uFFFD');
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A coordinate with two decimals, invariant culture.</summary>
    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Estimated width of <paramref name="text"/> in a sans-serif font of <paramref name="fontSize"/>: wide enough not to
    /// undercount.</summary>
    public static double TextWidth(string text, double fontSize)
    {
        double units = 0;
        foreach (char c in text)
        {
            units += c switch
            {
                'i' or 'j' or 'l' or '.' or ',' or '\'' or '!' or '|' or ':' or ';' => 0.32,
                'f' or 't' or 'r' or 'I' or ' ' or '(' or ')' or '-' => 0.45,
                'm' or 'w' or 'M' or 'W' => 0.92,
                >= 'A' and <= 'Z' => 0.72,
                _ when c > 0x2E80 => 1.0, // CJK and other wide scripts
                _ => 0.6,
            };
        }
        return units * fontSize;
    }
}
