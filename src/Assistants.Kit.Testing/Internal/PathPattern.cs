namespace Assistants.Kit.Testing.Internal;

/// <summary>A path pattern below <c>/v1</c> where <c>*</c> matches exactly one segment.</summary>
internal sealed class PathPattern
{
    private readonly string[] _segments;

    private PathPattern(string[] segments)
    {
        _segments = segments;
    }

    public static PathPattern Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var path = pattern.Split('?')[0];
        if (path.StartsWith("/v1/", StringComparison.Ordinal) || path == "/v1")
        {
            path = path[3..];
        }

        return new PathPattern(path.Trim('/').Split('/'));
    }

    public bool IsMatch(string path)
    {
        var segments = path.Trim('/').Split('/');
        if (segments.Length != _segments.Length)
        {
            return false;
        }

        for (var i = 0; i < segments.Length; i++)
        {
            if (_segments[i] != "*" && !string.Equals(_segments[i], segments[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
