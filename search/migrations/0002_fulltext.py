"""The full-text index beside search_searchdocument, one shape per database vendor.

Both are maintained by the database, not by Python, so any ORM write keeps them in
step. Caution for later migrations:
- SQLite: Django alters a table by remaking it (create new, copy, drop old, rename),
  which drops the triggers below. A migration that alters SearchDocument must
  re-create them and run  INSERT INTO search_fts(search_fts) VALUES('rebuild').
- PostgreSQL: search_vector depends on segmented_title/segmented_body; changing
  their type means dropping and re-adding the column.
"""

from django.db import migrations

TABLE = "search_searchdocument"

SQLITE = [
    # External content: FTS5 keeps only the inverted index and reads the columns from
    # the document table, so the segmented text is stored once. unicode61 splits on
    # the spaces segment() put between tokens and folds case and diacritics.
    f"""CREATE VIRTUAL TABLE search_fts USING fts5(
        segmented_title, segmented_body,
        content='{TABLE}', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER search_fts_insert AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO search_fts(rowid, segmented_title, segmented_body)
        VALUES (new.id, new.segmented_title, new.segmented_body);
    END""",
    # An external-content row is deleted by handing FTS5 the old values, which must be
    # exactly what was indexed: hence triggers, which see `old` as it was.
    f"""CREATE TRIGGER search_fts_delete AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO search_fts(search_fts, rowid, segmented_title, segmented_body)
        VALUES ('delete', old.id, old.segmented_title, old.segmented_body);
    END""",
    # Only a change of the segmented text touches the index; moving a document to
    # another branch or making it public does not.
    f"""CREATE TRIGGER search_fts_update AFTER UPDATE OF segmented_title, segmented_body ON {TABLE} BEGIN
        INSERT INTO search_fts(search_fts, rowid, segmented_title, segmented_body)
        VALUES ('delete', old.id, old.segmented_title, old.segmented_body);
        INSERT INTO search_fts(rowid, segmented_title, segmented_body)
        VALUES (new.id, new.segmented_title, new.segmented_body);
    END""",
    "INSERT INTO search_fts(search_fts) VALUES('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
]

POSTGRESQL = [
    # 'simple' lowercases and keeps every token (no stemming, no stop words), which is
    # what pre-segmented Chinese needs. Title weighs A, body D, for ts_rank.
    f"""ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, segmented_title), 'A')
        || setweight(to_tsvector('simple'::regconfig, segmented_body), 'D')
    ) STORED""",
    f"CREATE INDEX search_document_vector ON {TABLE} USING gin (search_vector)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS search_document_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
]


class RunSQLFor(migrations.RunSQL):
    """RunSQL that runs only on one database vendor ("sqlite", "postgresql")."""

    def __init__(self, vendor: str, sql: list[str], reverse_sql: list[str]) -> None:
        super().__init__(sql, reverse_sql)
        self.vendor = vendor

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, [self.vendor], kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Raw SQL operation for {self.vendor}"


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        RunSQLFor("sqlite", SQLITE, SQLITE_REVERSE),
        RunSQLFor("postgresql", POSTGRESQL, POSTGRESQL_REVERSE),
    ]
