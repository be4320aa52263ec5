using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Samples;

/// <summary>Writes log messages as plain lines to the sample's stderr (stdout carries only the contract's lines).</summary>
internal sealed class TextWriterLoggerProvider(TextWriter writer, LogLevel minimum) : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriterLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var level = logLevel switch
            {
                LogLevel.Warning => "warning",
                LogLevel.Error or LogLevel.Critical => "error",
                _ => logLevel.ToString().ToLowerInvariant(),
            };
            lock (owner._lock)
            {
                owner.Writer.WriteLine($"{level}: {formatter(state, exception)}");
            }
        }
    }

    private TextWriter Writer => writer;

    private LogLevel Minimum => minimum;
}
