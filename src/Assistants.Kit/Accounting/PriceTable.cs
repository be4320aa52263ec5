using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Assistants.Kit;

/// <summary>
/// Model and tool prices with their date and source. <see cref="Default"/> is the table shipped in the assembly; the
/// kit's table is <see cref="Default"/> with the overrides of <see cref="AccountingOptions.Prices"/> and
/// <see cref="AccountingOptions.Tools"/> applied. A model is found by its exact name, or by its name with a date
/// suffix stripped (<c>gpt-4.1-mini-2025-04-14</c> → <c>gpt-4.1-mini</c>) — never by prefix, so <c>o3-mini</c> is not
/// priced as <c>o3</c>. Names compare case-insensitively.
/// </summary>
public sealed partial class PriceTable
{
    private const string ResourceName = "Assistants.Kit.Accounting.Pricing.prices.json";

    private static readonly Lazy<PriceTable> LazyDefault = new(LoadDefault);

    private readonly FrozenDictionary<string, ModelPrice> _models;

    /// <summary>Initializes a new instance of the <see cref="PriceTable"/> class.</summary>
    /// <param name="models">Prices by model name (compared case-insensitively).</param>
    /// <param name="tools">The tool fees.</param>
    /// <param name="date">The date the prices were taken.</param>
    /// <param name="source">Where the prices come from.</param>
    public PriceTable(IEnumerable<KeyValuePair<string, ModelPrice>> models, ToolPrices tools, DateOnly? date, string? source)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(tools);
        _models = models.ToFrozenDictionary(p => p.Key.Trim(), p => p.Value, StringComparer.OrdinalIgnoreCase);
        Tools = tools;
        Date = date;
        Source = source;
    }

    /// <summary>Gets the price table shipped in the assembly (see its <see cref="Date"/> and <see cref="Source"/>).</summary>
    public static PriceTable Default => LazyDefault.Value;

    /// <summary>Gets the date the prices were taken, when known.</summary>
    public DateOnly? Date { get; }

    /// <summary>Gets where the prices come from.</summary>
    public string? Source { get; }

    /// <summary>Gets the prices by model name.</summary>
    public IReadOnlyDictionary<string, ModelPrice> Models => _models;

    /// <summary>Gets the tool fees.</summary>
    public ToolPrices Tools { get; }

    /// <summary>
    /// Strips a trailing snapshot date from a model name: <c>-YYYY-MM-DD</c> (<c>gpt-4o-2024-08-06</c>) or <c>-MMDD</c>
    /// (<c>gpt-4-0613</c>). Other names are returned trimmed and unchanged.
    /// </summary>
    /// <param name="model">The model name as the service reports it.</param>
    /// <returns>The name without its date suffix.</returns>
    public static string StripDateSuffix(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var trimmed = model.Trim();
        var match = DateSuffix().Match(trimmed);
        return match.Success ? trimmed[..match.Index] : trimmed;
    }

    /// <summary>Loads a price table from JSON in the shipped format (<c>date</c>, <c>source</c>, <c>models</c>, <c>tools</c>).</summary>
    /// <param name="json">The JSON.</param>
    /// <returns>The table.</returns>
    /// <exception cref="FormatException">The JSON is not a price table.</exception>
    public static PriceTable Load(Stream json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = JsonDocument.Parse(json);
        return Load(document.RootElement);
    }

    /// <summary>Finds the price of a model: exact name first, then the name with its date suffix stripped.</summary>
    /// <param name="model">The model name.</param>
    /// <param name="price">The price, when found.</param>
    /// <param name="matchedName">The table entry that matched, when found.</param>
    /// <returns><see langword="true"/> when the model is priced.</returns>
    public bool TryGetPrice(string? model, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelPrice? price, out string? matchedName)
    {
        price = null;
        matchedName = null;
        if (string.IsNullOrWhiteSpace(model))
        {
            return false;
        }

        var trimmed = model.Trim();
        if (_models.TryGetValue(trimmed, out price))
        {
            matchedName = trimmed;
            return true;
        }

        var stripped = StripDateSuffix(trimmed);
        if (!string.Equals(stripped, trimmed, StringComparison.Ordinal) && _models.TryGetValue(stripped, out price))
        {
            matchedName = stripped;
            return true;
        }

        return false;
    }

    /// <summary>Finds the price of a model, or <see langword="null"/> when the table does not have it.</summary>
    /// <param name="model">The model name.</param>
    /// <returns>The price, or <see langword="null"/>.</returns>
    public ModelPrice? GetPrice(string? model) => TryGetPrice(model, out var price, out _) ? price : null;

    /// <summary>Prices a usage of a model; <see langword="null"/> when the model is not priced.</summary>
    /// <param name="model">The model name.</param>
    /// <param name="usage">The tokens.</param>
    /// <returns>The cost in US dollars, or <see langword="null"/> when unknown.</returns>
    public decimal? CostOf(string? model, TokenUsage usage) => GetPrice(model)?.CostOf(usage);

    /// <summary>
    /// Returns a new table with some model prices replaced or added, and some tool fees replaced. A model override may
    /// set only some fields; the others keep the price of the model this table has (a new model needs
    /// <see cref="ModelPriceOptions.Input"/> and <see cref="ModelPriceOptions.Output"/>; its cached input defaults to its
    /// input price).
    /// </summary>
    /// <param name="models">The model overrides, by model name.</param>
    /// <param name="tools">The tool fee overrides, or <see langword="null"/>.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="ArgumentException">A new model lacks its input or output price.</exception>
    public PriceTable WithOverrides(IEnumerable<KeyValuePair<string, ModelPriceOptions>>? models, ToolPriceOptions? tools = null)
    {
        var merged = new Dictionary<string, ModelPrice>(_models, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, o) in models ?? [])
        {
            if (o is null)
            {
                continue;
            }

            var key = name.Trim();
            if (merged.TryGetValue(key, out var existing))
            {
                merged[key] = new ModelPrice(
                    o.Input ?? existing.InputPerMillion,
                    o.CachedInput ?? existing.CachedInputPerMillion,
                    o.Output ?? existing.OutputPerMillion);
            }
            else if (o.Input is { } input && o.Output is { } output)
            {
                merged[key] = new ModelPrice(input, o.CachedInput ?? input, output);
            }
            else
            {
                throw new ArgumentException(
                    $"The price of model '{key}' is not in the shipped table, so both Input and Output must be set.",
                    nameof(models));
            }
        }

        var toolPrices = tools is null
            ? Tools
            : new ToolPrices(
                tools.CodeInterpreterPerSession ?? Tools.CodeInterpreterPerSession,
                tools.FileSearchPerThousandCalls ?? Tools.FileSearchPerThousandCalls,
                tools.VectorStoragePerGigabyteDay ?? Tools.VectorStoragePerGigabyteDay);
        return new PriceTable(merged, toolPrices, Date, Source);
    }

    private static PriceTable LoadDefault()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded price table '{ResourceName}' is missing from the assembly.");
        return Load(stream);
    }

    private static PriceTable Load(JsonElement root)
    {
        try
        {
            DateOnly? date = root.TryGetProperty("date", out var d) && d.ValueKind == JsonValueKind.String
                ? DateOnly.ParseExact(d.GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture)
                : null;
            var source = root.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var models = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
            foreach (var model in root.GetProperty("models").EnumerateObject())
            {
                var input = model.Value.GetProperty("input").GetDecimal();
                var cached = model.Value.TryGetProperty("cachedInput", out var c) ? c.GetDecimal() : input;
                models[model.Name] = new ModelPrice(input, cached, model.Value.GetProperty("output").GetDecimal());
            }

            var tools = root.GetProperty("tools");
            var toolPrices = new ToolPrices(
                tools.GetProperty("codeInterpreterPerSession").GetDecimal(),
                tools.GetProperty("fileSearchPer1000Calls").GetDecimal(),
                tools.GetProperty("vectorStoragePerGbDay").GetDecimal());
            return new PriceTable(models, toolPrices, date, source);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"The JSON is not a price table: {ex.Message}", ex);
        }
    }

    [GeneratedRegex(@"-(?:\d{4}-\d{2}-\d{2}|(?:0[1-9]|1[0-2])\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateSuffix();
}
