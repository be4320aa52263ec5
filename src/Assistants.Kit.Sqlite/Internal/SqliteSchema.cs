namespace Assistants.Kit.Sqlite.Internal;

/// <summary>One forward step of the database schema.</summary>
/// <param name="Version">The schema version the step produces (1, 2, 3… without gaps).</param>
/// <param name="Description">What the step adds, recorded in the schema table.</param>
/// <param name="Sql">The DDL, run inside the migration transaction.</param>
internal sealed record SqliteMigration(int Version, string Description, string Sql);

/// <summary>
/// The schema of the kit's SQLite database. Every table is prefixed <c>assistants_kit_</c> so the file may be shared with
/// an application's own tables. Migrations only ever go forward; a new capability (e.g. the usage ledger) appends one.
/// </summary>
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
    ];

    public static int LatestVersion => Migrations[^1].Version;
}
