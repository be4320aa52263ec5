using System.Reflection;
using System.Text;

namespace Assistants.Kit.Tools.Internal;

/// <summary>Formats methods and types the way error messages name them: <c>OrderTools.GetStatus(String, CancellationToken)</c>.</summary>
internal static class MethodDisplay
{
    public static string Describe(MethodInfo method)
    {
        var text = new StringBuilder();
        if (method.DeclaringType is { } declaringType)
        {
            _ = text.Append(Describe(declaringType)).Append('.');
        }

        _ = text.Append(method.Name);
        if (method.IsGenericMethod)
        {
            _ = text.Append('<').AppendJoin(", ", method.GetGenericArguments().Select(Describe)).Append('>');
        }

        _ = text.Append('(').AppendJoin(", ", method.GetParameters().Select(DescribeParameter)).Append(')');
        return text.ToString();
    }

    public static string Describe(Type type)
    {
        if (type.IsByRef || type.IsPointer || type.IsArray)
        {
            string element = Describe(type.GetElementType()!);
            return type.IsArray ? $"{element}[]" : type.IsPointer ? $"{element}*" : element;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return $"{Describe(underlying)}?";
        }

        if (!type.IsGenericType)
        {
            return type.Name;
        }

        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return $"{(tick < 0 ? name : name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>";
    }

    private static string DescribeParameter(ParameterInfo parameter)
    {
        Type type = parameter.ParameterType;
        if (!type.IsByRef)
        {
            return Describe(type);
        }

        string modifier = parameter.IsOut ? "out" : parameter.IsIn ? "in" : "ref";
        return $"{modifier} {Describe(type)}";
    }
}
