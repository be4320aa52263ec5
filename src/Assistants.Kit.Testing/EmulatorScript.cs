using System.Globalization;
using Assistants.Kit.Testing.Internal;

namespace Assistants.Kit.Testing;

/// <summary>
/// The emulator's deterministic "model": decides, per run, which tools are called and what the assistant replies.
/// </summary>
/// <remarks>
/// <para>
/// A run is matched against the rules when it is created, in this order: the <see cref="OnRun(int)"/> rule for its
/// ordinal; then every <see cref="When(Func{EmulatorRunContext, bool})"/> and
/// <see cref="WhenUserMessageContains(string, StringComparison)"/> rule in the order they were added (the first
/// match wins); then the <see cref="Default"/> rule; and when nothing matches, the built-in behaviour.
/// </para>
/// <para>
/// The built-in behaviour replies with <see cref="DefaultReply(string, int)"/>, for example
/// <c>Emulated reply to "Where is my order?". This thread holds 2 earlier user messages.</c>, so that a test or a
/// re-run sample can see that a conversation continued. It never calls tools, even when the assistant has function
/// tools: tool calls only happen when a rule asks for them with <see cref="ScriptedRun.CallTools(ValueTuple{string, string}[])"/>.
/// </para>
/// <para>
/// Rule callbacks (predicates, computed tool calls, computed replies) run inside the emulator while it holds its state
/// lock: keep them quick and do not call the emulator from them. A callback that throws fails the run with
/// <c>last_error.code = "server_error"</c> and the exception's message.
/// </para>
/// <para>
/// Usage is deterministic. For each model step (a tool round or the final reply):
/// <c>prompt_tokens = ceil(chars / 4)</c> over the run's instructions, the texts of the thread's messages (only the last
/// N with a <c>last_messages</c> truncation strategy) and the tool outputs submitted so far in the run;
/// <c>completion_tokens = ceil(chars / 4)</c> over the reply text, or over the argument strings of the round's calls.
/// Each completed step reports its own usage; the run's usage (set only when it ends, <c>null</c> before) is the sum
/// over its steps, with <c>prompt_token_details.cached_tokens</c> and <c>completion_tokens_details.reasoning_tokens</c>
/// 0 unless <see cref="ScriptedRun.WithUsage"/> says otherwise. <c>max_completion_tokens</c> cuts the reply (the message
/// ends <c>incomplete</c>, the run <c>incomplete</c> with reason <c>max_completion_tokens</c>); a step whose prompt would
/// exceed <c>max_prompt_tokens</c> ends the run <c>incomplete</c> with reason <c>max_prompt_tokens</c>.
/// </para>
/// <para>
/// The same rules drive the Responses surface. There, one Assistants run corresponds to one <b>turn</b>: the chain of
/// responses from a user input until the model stops calling tools (the app runs the tool loop itself). A response whose
/// context (the conversation's items, or the <c>previous_response_id</c> chain, plus its input; or a stateless input)
/// ends with <c>function_call_output</c> items answering calls of an unfinished turn continues that turn; any other
/// response starts a new turn, which takes the next <see cref="EmulatorRunContext.RunNumber"/> (one counter for runs and
/// turns) and is matched against the rules. Each response of a turn is one model step: it issues the turn's next tool
/// round (its <c>output</c> holds the <c>function_call</c> items; several are parallel calls; with
/// <c>parallel_tool_calls: false</c> one call per response) or produces the outcome. The context gives
/// <see cref="EmulatorRunContext.LatestUserMessage"/> and <see cref="EmulatorRunContext.EarlierUserMessageCount"/> over
/// that context, <see cref="EmulatorRunContext.ToolCalls"/> and <see cref="EmulatorRunContext.ToolOutputs"/> over the turn,
/// <see cref="EmulatorRunContext.Protocol"/>, <see cref="EmulatorRunContext.ConversationId"/> and
/// <see cref="EmulatorRunContext.ResponseId"/>. Outcomes: <see cref="ScriptedRun.Fail"/> ends the response <c>failed</c>
/// with <c>error</c> = {code, message}; <see cref="ScriptedRun.EndIncomplete"/> ends it <c>incomplete</c> with
/// <c>incomplete_details.reason = "max_output_tokens"</c> (half the reply for <c>max_completion_tokens</c>; no output for
/// <c>max_prompt_tokens</c>, Responses having no prompt budget); <see cref="ScriptedRun.Expire"/> does not apply (responses
/// do not expire): the turn replies instead; <see cref="ScriptedRun.WithImageFile"/>,
/// <see cref="ScriptedRun.SearchFiles"/>, <see cref="ScriptedRun.RunCode(string, string?, bool)"/> and
/// <see cref="ScriptedRun.WithGeneratedFile"/> do not apply (output messages hold text only; hosted tools are not
/// emulated on Responses). <see cref="ScriptedRun.Taking"/> is each response's <c>in_progress</c> time;
/// <see cref="ScriptedRun.CutStreamAfter"/> and <see cref="ScriptedRun.FailStreamAfter"/> apply to the stream of each
/// request that creates a response of the turn (a stream resumed with <c>GET …?stream=true</c> is never cut), the error
/// being the Responses <c>error</c> event <c>{"type":"error","sequence_number",code,message,param}</c>.
/// </para>
/// <para>
/// Usage on the Responses surface is per response and equals the usage of the corresponding Assistants run step:
/// <c>input_tokens = ceil(chars / 4)</c> over the instructions, the texts of the context's messages and the function
/// call outputs; <c>output_tokens = ceil(chars / 4)</c> over the reply text, or the argument strings of the round's
/// calls; <c>total_tokens</c> their sum. <see cref="ScriptedRun.WithUsage"/> applies to every response of the turn
/// (<c>input_tokens_details.cached_tokens</c>, <c>output_tokens_details.reasoning_tokens</c>, replaced input / output
/// tokens). <c>max_output_tokens</c> cuts a reply (the message and the response end <c>incomplete</c>).
/// </para>
/// <para>
/// Built-in tools (Assistants runs): <see cref="ScriptedRun.SearchFiles"/> and
/// <see cref="ScriptedRun.RunCode(string, string?, bool)"/> add <c>file_search</c> / <c>code_interpreter</c> steps that the
/// emulator runs itself, in the order added, each a model step of its own before the function rounds and the reply; the
/// reply cites the search results and shows the code's image and generated files. Their usage follows the same formula
/// (completion tokens over the query or the code). <see cref="FailFileProcessing(string, string, string?)"/> scripts
/// files that fail when a vector store processes them.
/// </para>
/// <para>Scripts are not persisted with <see cref="AssistantsEmulatorOptions.StatePath"/>; register them again after a restart.</para>
/// </remarks>
public sealed class EmulatorScript
{
    /// <summary>
    /// The composite format of the built-in reply: <c>{0}</c> is the latest user message, <c>{1}</c> the number of user
    /// messages the thread held before it and <c>{2}</c> is <c>message</c> when that number is 1 and <c>messages</c>
    /// otherwise.
    /// </summary>
    public const string DefaultReplyFormat = "Emulated reply to \"{0}\". This thread holds {1} earlier user {2}.";

    private readonly Lock _sync = new();
    private readonly Dictionary<int, ScriptedRun> _byOrdinal = [];
    private readonly List<ScriptedRun> _rules = [];
    private readonly List<(Func<string, bool> Matches, string Code, string Message)> _fileFailures = [];
    private ScriptedRun? _default;

    internal EmulatorScript()
    {
    }

    /// <summary>
    /// Formats the built-in reply, e.g. <c>Emulated reply to "Hi". This thread holds 0 earlier user messages.</c>
    /// (see <see cref="DefaultReplyFormat"/>).
    /// </summary>
    /// <param name="latestUserMessage">The text of the latest user message of the thread (empty when there is none).</param>
    /// <param name="earlierUserMessageCount">How many user messages the thread held before the latest one.</param>
    /// <returns>The reply text.</returns>
    public static string DefaultReply(string latestUserMessage, int earlierUserMessageCount) =>
        string.Format(
            CultureInfo.InvariantCulture,
            DefaultReplyFormat,
            latestUserMessage,
            earlierUserMessageCount,
            earlierUserMessageCount == 1 ? "message" : "messages");

    /// <summary>
    /// Scripts the <paramref name="runNumber"/>-th run created by this emulator (1-based, counting every run on every
    /// thread and every Responses turn since the emulator started). Calling it again for the same number replaces the rule.
    /// </summary>
    /// <param name="runNumber">The 1-based ordinal of the run.</param>
    /// <returns>The scripted behaviour, to configure fluently.</returns>
    public ScriptedRun OnRun(int runNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runNumber, 1);
        var run = new ScriptedRun();
        lock (_sync)
        {
            _byOrdinal[runNumber] = run;
        }

        return run;
    }

    /// <summary>Scripts every run (or Responses turn) whose latest user message contains <paramref name="text"/>.</summary>
    /// <param name="text">The text to look for.</param>
    /// <param name="comparison">How to compare; case-insensitive ordinal by default.</param>
    /// <returns>The scripted behaviour, to configure fluently.</returns>
    public ScriptedRun WhenUserMessageContains(string text, StringComparison comparison = StringComparison.OrdinalIgnoreCase)
    {
        ArgumentNullException.ThrowIfNull(text);
        return When(context => context.LatestUserMessage.Contains(text, comparison));
    }

    /// <summary>Scripts every run (or Responses turn) for which <paramref name="predicate"/> returns <see langword="true"/>.</summary>
    /// <param name="predicate">Decides from the run's context (evaluated when the run, or the turn's first response, is created).</param>
    /// <returns>The scripted behaviour, to configure fluently.</returns>
    public ScriptedRun When(Func<EmulatorRunContext, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var run = new ScriptedRun { Predicate = predicate };
        lock (_sync)
        {
            _rules.Add(run);
        }

        return run;
    }

    /// <summary>Scripts every run (or Responses turn) no other rule matched (replacing an earlier default rule).</summary>
    /// <returns>The scripted behaviour, to configure fluently.</returns>
    public ScriptedRun Default()
    {
        var run = new ScriptedRun();
        lock (_sync)
        {
            _default = run;
        }

        return run;
    }

    /// <summary>
    /// Makes every file named <paramref name="fileName"/> (case-insensitive) fail when it is processed in a vector store:
    /// the vector store file ends <c>failed</c> with <c>last_error</c> = { <paramref name="code"/>, message }.
    /// Without a rule, a file fails only when file search does not read its extension (<c>unsupported_file</c>) or it is
    /// empty (<c>invalid_file</c>).
    /// </summary>
    /// <param name="fileName">The file name as uploaded.</param>
    /// <param name="code">The error code: <c>invalid_file</c> (default), <c>unsupported_file</c> or <c>server_error</c>.</param>
    /// <param name="message">The error message; a realistic default per code when omitted.</param>
    /// <returns>This script.</returns>
    public EmulatorScript FailFileProcessing(string fileName, string code = "invalid_file", string? message = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        return FailFileProcessing(name => string.Equals(name, fileName, StringComparison.OrdinalIgnoreCase), code, message);
    }

    /// <summary>Makes every file whose name matches <paramref name="fileName"/> fail when it is processed in a vector store.</summary>
    /// <param name="fileName">Decides from the file name as uploaded.</param>
    /// <param name="code">The error code: <c>invalid_file</c> (default), <c>unsupported_file</c> or <c>server_error</c>.</param>
    /// <param name="message">The error message; a realistic default per code when omitted.</param>
    /// <returns>This script.</returns>
    public EmulatorScript FailFileProcessing(Func<string, bool> fileName, string code = "invalid_file", string? message = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentException.ThrowIfNullOrEmpty(code);
        message ??= code switch
        {
            "unsupported_file" => "The file type is not supported.",
            "server_error" => "The server had an error while processing the file.",
            _ => "The file could not be parsed.",
        };
        lock (_sync)
        {
            _fileFailures.Add((fileName, code, message));
        }

        return this;
    }

    /// <summary>Removes every rule (runs and files); what is created afterwards gets the built-in behaviour.</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _byOrdinal.Clear();
            _rules.Clear();
            _fileFailures.Clear();
            _default = null;
        }
    }

    internal (string Code, string Message)? FileFailure(string fileName)
    {
        lock (_sync)
        {
            foreach (var (matches, code, message) in _fileFailures)
            {
                if (matches(fileName))
                {
                    return (code, message);
                }
            }
        }

        return null;
    }

    internal ScriptedRun? Match(EmulatorRunContext context)
    {
        ScriptedRun[] rules;
        lock (_sync)
        {
            if (context.RunNumber > 0 && _byOrdinal.TryGetValue(context.RunNumber, out var byOrdinal))
            {
                return byOrdinal;
            }

            rules = [.. _rules];
        }

        foreach (var rule in rules)
        {
            if (rule.Predicate!(context))
            {
                return rule;
            }
        }

        lock (_sync)
        {
            return _default;
        }
    }
}

/// <summary>The kind of a text annotation a scripted reply carries.</summary>
public enum EmulatorAnnotationKind
{
    /// <summary>A <c>file_citation</c> annotation (what file_search produces).</summary>
    FileCitation,

    /// <summary>A <c>file_path</c> annotation (what code_interpreter produces for a generated file).</summary>
    FilePath,
}

/// <summary>
/// What the scripted model does in one run (or Responses turn): zero or more tool rounds (each one
/// <c>requires_action</c>, or one response with <c>function_call</c> items), then one outcome (a reply by default; or
/// <see cref="Fail"/>, <see cref="Expire"/>, <see cref="EndIncomplete"/>). See <see cref="EmulatorScript"/> for how each
/// maps onto the Responses surface.
/// </summary>
/// <remarks>
/// Each model step (the step that issues a tool round, and the step that produces the outcome) takes
/// <see cref="AssistantsEmulatorOptions.InProgressDuration"/>, or the time given to <see cref="Taking(TimeSpan)"/>.
/// With <c>tool_choice: "none"</c> on the run the tool rounds are skipped; with <c>parallel_tool_calls: false</c> a
/// round of several calls is issued one call per <c>requires_action</c>.
/// </remarks>
public sealed class ScriptedRun
{
    private readonly List<Func<EmulatorRunContext, IEnumerable<(string Name, string Arguments)>>> _rounds = [];
    private readonly List<(string Text, string FileId, EmulatorAnnotationKind Kind)> _annotations = [];
    private readonly List<BuiltInStep> _builtInSteps = [];

    internal ScriptedRun()
    {
    }

    internal IReadOnlyList<BuiltInStep> BuiltInSteps => _builtInSteps;

    internal Func<EmulatorRunContext, bool>? Predicate { get; init; }

    internal IReadOnlyList<Func<EmulatorRunContext, IEnumerable<(string Name, string Arguments)>>> Rounds => _rounds;

    internal Func<EmulatorRunContext, string>? ReplyFactory { get; private set; }

    internal IReadOnlyList<(string Text, string FileId, EmulatorAnnotationKind Kind)> Annotations => _annotations;

    internal string? ImageFileId { get; private set; }

    internal ScriptedOutcome Outcome { get; private set; } = ScriptedOutcome.Reply;

    internal string? FailureCode { get; private set; }

    internal string? FailureMessage { get; private set; }

    internal string? IncompleteReason { get; private set; }

    internal TimeSpan? Duration { get; private set; }

    internal int? PromptTokens { get; private set; }

    internal int? CompletionTokens { get; private set; }

    internal int? CachedTokens { get; private set; }

    internal int? ReasoningTokens { get; private set; }

    internal int? CutAfterEvents { get; private set; }

    internal (int AfterEvents, string Code, string Message)? StreamError { get; private set; }

    /// <summary>
    /// Adds one tool round: the run goes to <c>requires_action</c> with these function calls (several calls are
    /// parallel calls in one <c>requires_action</c>). Call it again for further rounds.
    /// </summary>
    /// <param name="calls">The function names and their JSON argument strings.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun CallTools(params (string Name, string Arguments)[] calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        var copy = calls.ToArray();
        _rounds.Add(_ => copy);
        return this;
    }

    /// <summary>
    /// Adds one tool round whose calls are computed when the round is issued, from the run's context (the latest user
    /// message, the outputs of earlier rounds, ...). Returning no call skips the round.
    /// </summary>
    /// <param name="calls">Computes the function names and their JSON argument strings.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun CallTools(Func<EmulatorRunContext, IEnumerable<(string Name, string Arguments)>> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        _rounds.Add(calls);
        return this;
    }

    /// <summary>Ends the run with an assistant message holding <paramref name="text"/>.</summary>
    /// <param name="text">The reply.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun Reply(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Reply(_ => text);
    }

    /// <summary>
    /// Ends the run with an assistant message computed from the run's context when the reply is produced, e.g.
    /// <c>ctx =&gt; $"Your order is {ctx.ToolOutputs["get_order_status"]}"</c>.
    /// </summary>
    /// <param name="text">Computes the reply.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun Reply(Func<EmulatorRunContext, string> text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ReplyFactory = text;
        Outcome = ScriptedOutcome.Reply;
        return this;
    }

    /// <summary>
    /// Adds an annotation to the reply's text part, covering the first occurrence of <paramref name="text"/> in the
    /// reply (appended to the reply when it does not occur), e.g. a file citation marker like <c>【4:0†notes.txt】</c>.
    /// </summary>
    /// <param name="text">The annotated text.</param>
    /// <param name="fileId">The cited or generated file's ID.</param>
    /// <param name="kind"><c>file_citation</c> (default) or <c>file_path</c>.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun WithAnnotation(string text, string fileId, EmulatorAnnotationKind kind = EmulatorAnnotationKind.FileCitation)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        ArgumentException.ThrowIfNullOrEmpty(fileId);
        _annotations.Add((text, fileId, kind));
        return this;
    }

    /// <summary>Adds an <c>image_file</c> content part after the reply's text.</summary>
    /// <param name="fileId">The image's file ID.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun WithImageFile(string fileId)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileId);
        ImageFileId = fileId;
        return this;
    }

    /// <summary>
    /// Adds a <c>file_search</c> step, run by the emulator before the function rounds and the reply: a deterministic
    /// keyword search (see <see cref="AssistantsEmulator"/>) over the completed files of the vector stores of the
    /// assistant and the thread and the files attached to the thread's messages for file search. The step's
    /// <c>results</c> carry each chunk's text when the run was created with the <c>include[]</c> that asks for it (the
    /// official .NET client always does). The reply then cites the top <paramref name="citations"/> results: a marker
    /// <c>【{step}:{result}†{file name}】</c> each, before the reply's final period, with a <c>file_citation</c>
    /// annotation. The run needs the <c>file_search</c> tool; without it the run fails with a message that says so.
    /// </summary>
    /// <param name="query">What to search for; the latest user message when <see langword="null"/>.</param>
    /// <param name="citations">How many of the top results the reply cites (0 for none).</param>
    /// <param name="maxResults">The most results; the tool's <c>max_num_results</c> (default 20) when <see langword="null"/>.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun SearchFiles(string? query = null, int citations = 1, int? maxResults = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(citations);
        if (maxResults is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, 1, nameof(maxResults));
        }

        _builtInSteps.Add(new BuiltInStep { FileSearch = true, Query = query, Citations = citations, MaxResults = maxResults });
        return this;
    }

    /// <summary>
    /// Adds a <c>code_interpreter</c> step, run by the emulator before the function rounds and the reply, with
    /// <paramref name="input"/> as its code and <paramref name="logs"/> as its logs output; with
    /// <paramref name="image"/> it also produces a PNG chart (a file with purpose <c>assistants_output</c>, downloadable
    /// from <c>/files/{id}/content</c>) that the step shows as an <c>image</c> output and the reply as an
    /// <c>image_file</c> part. The run needs the <c>code_interpreter</c> tool.
    /// </summary>
    /// <param name="input">The code.</param>
    /// <param name="logs">What the code printed; no logs output when <see langword="null"/>.</param>
    /// <param name="image">Whether the code produced a chart.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun RunCode(string input, string? logs = null, bool image = false) =>
        RunCode(input, logs, image ? EmulatorImages.Chart() : null);

    /// <summary>Adds a <c>code_interpreter</c> step that produces the given PNG image (see <see cref="RunCode(string, string?, bool)"/>).</summary>
    /// <param name="input">The code.</param>
    /// <param name="logs">What the code printed; no logs output when <see langword="null"/>.</param>
    /// <param name="imagePng">The image's bytes; no image when <see langword="null"/>.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun RunCode(string input, string? logs, byte[]? imagePng)
    {
        ArgumentNullException.ThrowIfNull(input);
        _builtInSteps.Add(new BuiltInStep { Input = input, Logs = logs, ImagePng = imagePng });
        return this;
    }

    /// <summary>
    /// Makes the last <see cref="RunCode(string, string?, bool)"/> step write a file: it is stored with purpose
    /// <c>assistants_output</c> and the reply links it as <c>[fileName](sandbox:/mnt/data/fileName)</c> with a
    /// <c>file_path</c> annotation on the sandbox path, as the service does.
    /// </summary>
    /// <param name="fileName">The file's name in the sandbox.</param>
    /// <param name="content">Its content (UTF-8).</param>
    /// <returns>This instance.</returns>
    /// <exception cref="InvalidOperationException">No <c>RunCode</c> step was added before.</exception>
    public ScriptedRun WithGeneratedFile(string fileName, string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(content);
        var step = _builtInSteps.LastOrDefault(s => !s.FileSearch)
            ?? throw new InvalidOperationException("WithGeneratedFile needs a RunCode step before it.");
        step.Files.Add((fileName, System.Text.Encoding.UTF8.GetBytes(content)));
        return this;
    }

    /// <summary>
    /// Ends the run <c>failed</c> with <c>last_error</c> = { <paramref name="code"/>, <paramref name="message"/> }
    /// (after the tool rounds, if any). The codes the service uses are <c>server_error</c>,
    /// <c>rate_limit_exceeded</c> and <c>invalid_prompt</c>.
    /// </summary>
    /// <param name="code">The error code.</param>
    /// <param name="message">The error message; a realistic default per code when omitted.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun Fail(string code = "server_error", string? message = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Outcome = ScriptedOutcome.Fail;
        FailureCode = code;
        FailureMessage = message ?? code switch
        {
            "rate_limit_exceeded" => "You exceeded your current quota, please check your plan and billing details.",
            "invalid_prompt" => "Your prompt was flagged as potentially violating our usage policy.",
            _ => "Sorry, something went wrong.",
        };
        return this;
    }

    /// <summary>
    /// Ends the run <c>expired</c> at the point where it would produce its outcome (after the tool rounds, if any),
    /// without waiting for <see cref="AssistantsEmulatorOptions.RequiresActionTimeout"/>. (A run also expires on its own
    /// when tool outputs are not submitted before its <c>expires_at</c>.)
    /// </summary>
    /// <returns>This instance.</returns>
    public ScriptedRun Expire()
    {
        Outcome = ScriptedOutcome.Expire;
        return this;
    }

    /// <summary>
    /// Ends the run <c>incomplete</c> with <c>incomplete_details.reason</c> = <paramref name="reason"/>. With
    /// <c>max_completion_tokens</c> the assistant message holds the first half of the reply and is <c>incomplete</c>
    /// (reason <c>max_tokens</c>); with <c>max_prompt_tokens</c> no message is created.
    /// </summary>
    /// <param name="reason"><c>max_completion_tokens</c> (default) or <c>max_prompt_tokens</c>.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun EndIncomplete(string reason = "max_completion_tokens")
    {
        if (reason is not ("max_completion_tokens" or "max_prompt_tokens"))
        {
            throw new ArgumentException("The reason is 'max_completion_tokens' or 'max_prompt_tokens'.", nameof(reason));
        }

        Outcome = ScriptedOutcome.Incomplete;
        IncompleteReason = reason;
        return this;
    }

    /// <summary>Makes every model step of this run take <paramref name="duration"/> (instead of <see cref="AssistantsEmulatorOptions.InProgressDuration"/>).</summary>
    /// <param name="duration">The time one model step spends <c>in_progress</c>.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun Taking(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        Duration = duration;
        return this;
    }

    /// <summary>
    /// Overrides the run's usage totals (the formula of <see cref="AssistantsEmulatorOptions"/> gives the rest).
    /// <paramref name="cached"/> becomes <c>prompt_token_details.cached_tokens</c> (capped at the prompt tokens) and
    /// <paramref name="reasoning"/> becomes <c>completion_tokens_details.reasoning_tokens</c> (added to the completion
    /// tokens unless <paramref name="completion"/> is given). The run's last step reports the same details.
    /// </summary>
    /// <param name="cached">Cached prompt tokens.</param>
    /// <param name="reasoning">Reasoning tokens.</param>
    /// <param name="prompt">Replaces the computed prompt tokens.</param>
    /// <param name="completion">Replaces the computed completion tokens.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun WithUsage(int? cached = null, int? reasoning = null, int? prompt = null, int? completion = null)
    {
        CachedTokens = cached;
        ReasoningTokens = reasoning;
        PromptTokens = prompt;
        CompletionTokens = completion;
        return this;
    }

    /// <summary>
    /// When this run is streamed, aborts the connection after <paramref name="events"/> events of each stream (no
    /// <c>done</c> event; the run itself goes on in the emulator, as it does on the real service).
    /// </summary>
    /// <param name="events">How many events to send before cutting.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun CutStreamAfter(int events)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        CutAfterEvents = events;
        return this;
    }

    /// <summary>
    /// When this run is streamed, sends an <c>error</c> event after <paramref name="events"/> events of each stream and
    /// ends the stream there (<c>event: error</c> with data <c>{"error":{"message","type","param","code"}}</c>; the OpenAI
    /// .NET client throws a <c>ClientResultException</c> carrying that data, the Python SDK an <c>APIError</c>).
    /// </summary>
    /// <param name="events">How many events to send before the error.</param>
    /// <param name="code">The error code.</param>
    /// <param name="message">The error message.</param>
    /// <returns>This instance.</returns>
    public ScriptedRun FailStreamAfter(int events, string code = "server_error", string message = "The server had an error while processing your request. Sorry about that!")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        ArgumentException.ThrowIfNullOrEmpty(code);
        ArgumentNullException.ThrowIfNull(message);
        StreamError = (events, code, message);
        return this;
    }
}

/// <summary>
/// What a run (Assistants) or a turn (Responses) knows when the script decides: the user messages of its thread,
/// conversation or response chain, its tool calls and outputs so far.
/// </summary>
public sealed class EmulatorRunContext
{
    internal EmulatorRunContext()
    {
    }

    /// <summary>Gets which API the client speaks.</summary>
    public EmulatorProtocol Protocol { get; internal init; }

    /// <summary>Gets the thread's ID (Assistants), or the conversation's ID (Responses with a conversation; empty otherwise).</summary>
    public string ThreadId { get; internal init; } = "";

    /// <summary>
    /// Gets the run's ID (Assistants), or the ID of the turn's first response (Responses: the same for every response of
    /// the turn).
    /// </summary>
    public string RunId { get; internal init; } = "";

    /// <summary>Gets the assistant's ID (empty on the Responses surface).</summary>
    public string AssistantId { get; internal init; } = "";

    /// <summary>Gets the conversation's ID when a Responses turn uses one, otherwise <see langword="null"/>.</summary>
    public string? ConversationId { get; internal init; }

    /// <summary>Gets the ID of the response being produced (Responses), otherwise <see langword="null"/>.</summary>
    public string? ResponseId { get; internal init; }

    /// <summary>
    /// Gets the run's 1-based ordinal among the runs and Responses turns created since the emulator started (one counter
    /// for both surfaces; 0 for a run or turn reloaded from the state file).
    /// </summary>
    public int RunNumber { get; internal init; }

    /// <summary>Gets the model the run uses.</summary>
    public string Model { get; internal init; } = "";

    /// <summary>Gets the run's effective instructions.</summary>
    public string? Instructions { get; internal init; }

    /// <summary>
    /// Gets the text of the latest user message of the thread (Assistants) or of the response's context: the conversation's
    /// items, or the <c>previous_response_id</c> chain, plus the input (Responses). Empty when there is none.
    /// </summary>
    public string LatestUserMessage { get; internal init; } = "";

    /// <summary>Gets how many user messages the thread (or the Responses context) held before the latest one.</summary>
    public int EarlierUserMessageCount { get; internal init; }

    /// <summary>Gets the texts of all user messages of the thread (or the Responses context), oldest first.</summary>
    public IReadOnlyList<string> UserMessages { get; internal init; } = [];

    /// <summary>Gets the names of the function tools the run (or the response) has.</summary>
    public IReadOnlyList<string> FunctionNames { get; internal init; } = [];

    /// <summary>Gets the run's metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; internal init; } = new Dictionary<string, string>();

    /// <summary>Gets the tool calls issued so far in this run (or turn), oldest first, with their outputs once submitted.</summary>
    public IReadOnlyList<EmulatorToolCall> ToolCalls { get; internal init; } = [];

    /// <summary>Gets the submitted outputs by function name (the latest call of a function wins).</summary>
    public IReadOnlyDictionary<string, string> ToolOutputs { get; internal init; } = new Dictionary<string, string>();

    /// <summary>Gets the submitted outputs by tool call ID.</summary>
    public IReadOnlyDictionary<string, string> ToolOutputsByCallId { get; internal init; } = new Dictionary<string, string>();

    /// <summary>Gets how many tool rounds were issued so far in this run (or turn).</summary>
    public int ToolRounds { get; internal init; }

    /// <summary>Gets the results of the run's file search steps so far, best first per step (Assistants runs).</summary>
    public IReadOnlyList<EmulatorFileSearchResult> FileSearchResults { get; internal init; } = [];
}

/// <summary>A result of a scripted file search: the chunk of a file that matched, and its score.</summary>
/// <param name="FileId">The file's ID.</param>
/// <param name="FileName">The file's name.</param>
/// <param name="Score">The share of the query's terms the chunk contains (0–1).</param>
/// <param name="Text">The chunk's text.</param>
public sealed record EmulatorFileSearchResult(string FileId, string FileName, double Score, string Text);

/// <summary>Which API a scripted run or turn is served through.</summary>
public enum EmulatorProtocol
{
    /// <summary>The Assistants v2 API (threads and runs).</summary>
    Assistants,

    /// <summary>The Responses API (with or without a conversation).</summary>
    Responses,
}

/// <summary>A function call the scripted model issued.</summary>
public sealed class EmulatorToolCall
{
    internal EmulatorToolCall(string id, string name, string arguments, string? output)
    {
        Id = id;
        Name = name;
        Arguments = arguments;
        Output = output;
    }

    /// <summary>Gets the call's ID (<c>call_…</c>).</summary>
    public string Id { get; }

    /// <summary>Gets the function name.</summary>
    public string Name { get; }

    /// <summary>Gets the JSON argument string.</summary>
    public string Arguments { get; }

    /// <summary>Gets the submitted output, or <see langword="null"/> while none was submitted.</summary>
    public string? Output { get; }
}

/// <summary>A scripted built-in tool step: a file search, or a code interpreter call.</summary>
internal sealed class BuiltInStep
{
    public bool FileSearch { get; init; }

    public string? Query { get; init; }

    public int Citations { get; init; }

    public int? MaxResults { get; init; }

    public string Input { get; init; } = "";

    public string? Logs { get; init; }

    public byte[]? ImagePng { get; init; }

    public List<(string FileName, byte[] Content)> Files { get; } = [];
}

internal enum ScriptedOutcome
{
    Reply,
    Fail,
    Expire,
    Incomplete,
}
