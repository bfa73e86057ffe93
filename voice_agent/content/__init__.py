"""The content team's backend: versioned FAQ editing, review, publishing and the inbox.

YAML in faq_db/entries/ stays the source of truth (versioned in git). This package keeps the
history of every entry in SQLite (drafts, reviews, published and superseded versions), the
accounts of the people who edit it, an audit log, and the questions the assistant could not
answer (redacted, clustered by meaning). Publishing writes the entry's YAML file and hands the
published set to `Engine.publish`, so a new answer is live without a restart.

Modules: `db` (schema, the database worker), `records` (dataclasses), `errors`, `schema`
(the entry body with size limits), `body` (canonical bodies, diffs), `yaml_io` / `csv_io`
(files), `mirror` (the entries folder), `versions` (SQL), `workflow` (draft -> review ->
published), `importer`, `watcher`, `accounts`, `redact`, `inbox` (SQL, clustering),
`unanswered` (the bus consumer), `service` (start/stop), `api*` (the JSON API).
"""
