using System.Net.Http.Headers;

namespace Greenhouse.Harvest;

/// <summary>Reads the <c>rel="next"</c> target of an RFC 8288 <c>Link</c> header.</summary>
internal static class LinkHeader
{
    public static string? FindNext(HttpResponseHeaders headers)
    {
        if (!headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            var next = FindNext(value);
            if (next is not null)
            {
                return next;
            }
        }

        return null;
    }

    public static string? FindNext(string header)
    {
        var position = 0;
        while (position < header.Length)
        {
            var open = header.IndexOf('<', position);
            if (open < 0)
            {
                return null;
            }

            var close = header.IndexOf('>', open + 1);
            if (close < 0)
            {
                return null;
            }

            // Parameters run to the next link (a comma outside quotes) or the end.
            var end = close + 1;
            var quoted = false;
            while (end < header.Length && (quoted || header[end] != ','))
            {
                if (header[end] == '"')
                {
                    quoted = !quoted;
                }

                end++;
            }

            var target = header[(open + 1)..close];
            foreach (var parameter in header[(close + 1)..end].Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var pair = parameter.Split('=', 2, StringSplitOptions.TrimEntries);
                if (pair.Length == 2 && pair[0].Equals("rel", StringComparison.OrdinalIgnoreCase)
                    && pair[1].Trim('"').Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("next", StringComparer.OrdinalIgnoreCase))
                {
                    return target.Length == 0 ? null : target;
                }
            }

            position = end + 1;
        }

        return null;
    }
}
