namespace Assistants.Kit.Sqlite.Internal;

/// <summary>One forward step of the database schema.</summary>
/// <param name="Version">The schema version the step produces (1, 2, 3… without gaps).</param>
/// <param name="Description">What the step adds, recorded in the schema table.</param>
/// <param name="Sql">The DDL, run inside the migration transaction.</param>
internal sealed record SqliteMigration(int Version, string Description, string Sql);

/// <summary>
/// The schema of the kit's SQLite database. Every table is prefixed <c>assistants_kit_</c> so the file may be shared with
/// an application's own tables. Migrations only ever go forward; a new capability appends one.
/// </summary>
/// <remarks>
/// <para>Version 1: conversation bindings and assistant records.</para>
/// <para>
/// Version 2: the usage ledger. <c>assistants_kit_usage</c> has one row per <see cref="UsageEntry"/>, never updated.
/// <c>timestamp_ticks</c> is the instant as UTC ticks (100 ns since 0001-01-01, <see cref="DateTimeOffset.UtcTicks"/>),
/// which windows compare exactly; <c>timestamp</c> keeps the round-trip text with the original offset. Money and
/// gigabyte-days (<c>token_cost</c>, <c>tool_cost</c>, <c>vector_storage_gb_days</c>) are <see cref="decimal"/> values
/// as invariant-culture TEXT, exact at any scale (never REAL); <c>token_cost</c> is NULL when the model was not priced.
/// Totals add them with the <c>assistants_kit_decimal_sum</c> aggregate the ledger registers on its connections (so
/// they are exact too). <c>model_fold</c> and <c>model_family_fold</c> are the model and the model without its date
/// suffix with ASCII letters upper-cased, which make case-insensitive model queries indexable. Tags are rows of
/// <c>assistants_kit_usage_tags</c> (entry, name, value) indexed by (name, value, entry), so each tag of a query is an
/// index lookup; every dimension is indexed together with the time.
/// </para>
/// <para>Version 3: the run journal of a binding (<c>journal</c>, JSON).</para>
/// <para>
/// Version 4: <c>fencing_token</c>, the <see cref="ConversationBinding.FencingToken"/> of the binding's last accepted
/// save (0 for rows written before, which are therefore unfenced until a fenced writer saves them).
/// </para>
/// <para>
/// Version 5: the file ingestion records (<see cref="IFileIngestionStore"/>): <c>assistants_kit_file_ingestions</c>, one
/// row per (vector store name, content SHA-256) with the uploaded file's ID, name and length, the vector store ID once
/// known, the status (<c>uploaded</c>, <c>added</c>, <c>failed</c>) and the round-trip times it was recorded and changed.
/// </para>
/// </remarks>
internal static class SqliteSchema
{
    public const string SchemaTable = "assistants_kit_schema";

    public const string CreateSchemaTable = """
        CREATE TABLE IF NOT EXISTS assistants_kit_schema (
            version     INTEGER NOT NULL PRIMARY KEY,
            description TEXT    NOT NULL,
            applied_at  TEXT    NOT NULL
        );
        """;

    public static readonly IReadOnlyList<SqliteMigration> Migrations =
    [
        new(1, "conversation bindings and assistant records", """
            CREATE TABLE assistants_kit_bindings (
                conversation_key    TEXT    NOT NULL,
                protocol            TEXT    NOT NULL,
                thread_id           TEXT    NOT NULL,
                assistant_id        TEXT    NULL,
                definition_version  TEXT    NULL,
                active_run_id       TEXT    NULL,
                active_run_status   TEXT    NULL,
                pending_tool_calls  TEXT    NOT NULL DEFAULT '[]',
                message_count       INTEGER NOT NULL DEFAULT 0,
                created_at          TEXT    NOT NULL,
                updated_at          TEXT    NOT NULL,
                previous_thread_ids TEXT    NOT NULL DEFAULT '[]',
                version             INTEGER NOT NULL,
                PRIMARY KEY (conversation_key, protocol)
            ) WITHOUT ROWID;

            CREATE TABLE assistants_kit_assistants (
                name               TEXT NOT NULL,
                protocol           TEXT NOT NULL,
                assistant_id       TEXT NOT NULL,
                definition_version TEXT NOT NULL,
                updated_at         TEXT NOT NULL,
                PRIMARY KEY (name, protocol)
            ) WITHOUT ROWID;
            """),
        new(2, "usage ledger", """
            CREATE TABLE assistants_kit_usage (
                id                        INTEGER NOT NULL PRIMARY KEY,
                timestamp_ticks           INTEGER NOT NULL,
                timestamp                 TEXT    NOT NULL,
                kind                      TEXT    NOT NULL,
                conversation_key          TEXT    NULL,
                thread_id                 TEXT    NULL,
                run_id                    TEXT    NULL,
                assistant_id              TEXT    NULL,
                assistant_name            TEXT    NULL,
                model                     TEXT    NULL,
                model_fold                TEXT    NULL,
                model_family_fold         TEXT    NULL,
                input_tokens              INTEGER NOT NULL,
                output_tokens             INTEGER NOT NULL,
                cached_input_tokens       INTEGER NOT NULL,
                reasoning_tokens          INTEGER NOT NULL,
                token_cost                TEXT    NULL,
                tool_cost                 TEXT    NOT NULL,
                code_interpreter_sessions INTEGER NOT NULL,
                file_search_calls         INTEGER NOT NULL,
                vector_store_id           TEXT    NULL,
                vector_storage_gb_days    TEXT    NOT NULL
            );

            CREATE INDEX assistants_kit_usage_by_time ON assistants_kit_usage (timestamp_ticks);
            CREATE INDEX assistants_kit_usage_by_key ON assistants_kit_usage (conversation_key, timestamp_ticks);
            CREATE INDEX assistants_kit_usage_by_thread ON assistants_kit_usage (thread_id, timestamp_ticks);
            CREATE INDEX assistants_kit_usage_by_run ON assistants_kit_usage (run_id, timestamp_ticks);
            CREATE INDEX assistants_kit_usage_by_assistant ON assistants_kit_usage (assistant_id, timestamp_ticks);
            CREATE INDEX assistants_kit_usage_by_model ON assistants_kit_usage (model_fold, timestamp_ticks);
            CREATE INDEX assistants_kit_usage_by_model_family ON assistants_kit_usage (model_family_fold, timestamp_ticks);

            CREATE TABLE assistants_kit_usage_tags (
                usage_id INTEGER NOT NULL,
                name     TEXT    NOT NULL,
                value    TEXT    NOT NULL,
                PRIMARY KEY (usage_id, name)
            ) WITHOUT ROWID;

            CREATE INDEX assistants_kit_usage_tags_by_value ON assistants_kit_usage_tags (name, value, usage_id);
            """),
        new(3, "run journal and journaled tool outputs", """
            ALTER TABLE assistants_kit_bindings ADD COLUMN journal TEXT NULL;
            """),
        new(4, "fencing tokens of conversation leases", """
            ALTER TABLE assistants_kit_bindings ADD COLUMN fencing_token INTEGER NOT NULL DEFAULT 0;
            """),
        new(5, "file ingestion records", """
            CREATE TABLE assistants_kit_file_ingestions (
                vector_store_name TEXT    NOT NULL,
                content_hash      TEXT    NOT NULL,
                file_id           TEXT    NOT NULL,
                file_name         TEXT    NOT NULL,
                bytes             INTEGER NOT NULL,
                status            TEXT    NOT NULL,
                vector_store_id   TEXT    NULL,
                created_at        TEXT    NOT NULL,
                updated_at        TEXT    NOT NULL,
                PRIMARY KEY (vector_store_name, content_hash)
            ) WITHOUT ROWID;
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;
}
