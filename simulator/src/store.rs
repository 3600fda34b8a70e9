//! SQLite storage: a table per entity, a column per stored field, plus the simulator's own tables.
//!
//! Scalars keep their SQL type (so comparisons in `where` follow column affinity the way a real
//! database would), arrays and objects are JSON text. Records travel as JSON objects.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value};

use crate::file_store::{Content, FileDir};
use crate::model::{Entity, Kind, Model};

/// A record as JSON fields.
pub type Record = Map<String, Value>;

/// Quotes an SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQLite database of one simulator, and the folder of its file contents and upload chunks
/// ([`FileDir`]: files on disk, written without the database's lock).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    files: Arc<FileDir>,
}

/// A storage failure (reported as HTTP 500).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file content or chunk could not be written or read.
    #[error("file storage error: {0}")]
    Files(#[from] std::io::Error),
}

/// Where a file's content is: a file of the store's folder, or (databases of older versions) a
/// blob in the database.
#[derive(Debug)]
pub enum StoredContent {
    /// A file on disk.
    File(PathBuf),
    /// The bytes, from the older `_sim_file_blob` table.
    Bytes(Vec<u8>),
}

impl Store {
    /// Opens (or creates) the database and makes sure every entity has its table and columns.
    /// File contents live in `<path>.files` (created when first written), or in a temporary
    /// folder removed with the store when the database is in memory.
    pub fn open(path: Option<&Path>, model: &Model) -> Result<Store, StoreError> {
        let files = Arc::new(FileDir::open(path)?);
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(
            // A page cache of 64 MiB (SQLite's default is 2 MiB): pages of a table of a million
            // records stay in memory the way a database server's buffer pool keeps them.
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA case_sensitive_like=ON;
             PRAGMA cache_size=-65536;
             CREATE TABLE IF NOT EXISTS _sim_attr_value (entity TEXT NOT NULL, record_id TEXT NOT NULL,
                attribute_id TEXT NOT NULL, data TEXT NOT NULL, seq INTEGER NOT NULL,
                PRIMARY KEY (entity, record_id, attribute_id));
             CREATE TABLE IF NOT EXISTS _sim_file_blob (id TEXT PRIMARY KEY, bytes BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS _sim_file_content (id TEXT PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS _sim_rel (entity TEXT NOT NULL, id TEXT NOT NULL, link TEXT NOT NULL,
                other_id TEXT NOT NULL, PRIMARY KEY (entity, id, link, other_id));
             CREATE TABLE IF NOT EXISTS _sim_audit (entity TEXT NOT NULL, id TEXT NOT NULL,
                kind TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (entity, id, kind));",
        )?;
        let tx = conn.unchecked_transaction()?;
        for e in model.entities.values() {
            let t = ident(&e.name);
            let existing: Vec<String> = {
                let mut st = tx.prepare(&format!("PRAGMA table_info({t})"))?;
                st.query_map([], |r| r.get::<_, String>(1))?
                    .collect::<Result<_, _>>()?
            };
            if existing.is_empty() {
                let cols: Vec<String> = e
                    .fields
                    .iter()
                    .map(|f| {
                        let pk = if f.name == "id" { " PRIMARY KEY" } else { "" };
                        format!("{} {}{pk}", ident(&f.name), f.kind.sql_type())
                    })
                    .collect();
                tx.execute(&format!("CREATE TABLE {t} ({})", cols.join(", ")), [])?;
                continue;
            }
            let existing: Vec<String> = existing.iter().map(|s| s.to_ascii_lowercase()).collect();
            for f in &e.fields {
                if existing.contains(&f.name.to_ascii_lowercase()) {
                    continue;
                }
                tx.execute(
                    &format!(
                        "ALTER TABLE {t} ADD COLUMN {} {}",
                        ident(&f.name),
                        f.kind.sql_type()
                    ),
                    [],
                )?;
            }
        }
        // Every list query filters on `deleted` and keyset paging on `id`: a covering index
        // keeps `COUNT(*) … WHERE deleted = 0 AND id > ?` off the table rows, as AtroCore's own
        // indexes on `deleted` do in MySQL/PostgreSQL.
        for e in model
            .entities
            .values()
            .filter(|e| e.fields.iter().any(|f| f.name == "deleted"))
        {
            let (t, index) = (ident(&e.name), ident(&format!("{}_id_deleted", e.name)));
            tx.execute(
                &format!("CREATE INDEX IF NOT EXISTS {index} ON {t} (\"id\", \"deleted\")"),
                [],
            )?;
        }
        // What AtroCore's schema indexes (unique fields, link columns, the metadata's indexes
        // such as `name`, `createdAt`, `modifiedAt`): unique checks and upsert look-ups by value,
        // filters on links and sorted lists do not scan the table.
        for e in model.entities.values() {
            for cols in &e.indexes {
                let index = ident(&format!("{}_{}", e.name, cols.join("_")));
                let cols: Vec<String> = cols.iter().map(|c| ident(c)).collect();
                tx.execute(
                    &format!(
                        "CREATE INDEX IF NOT EXISTS {index} ON {} ({})",
                        ident(&e.name),
                        cols.join(", ")
                    ),
                    [],
                )?;
            }
        }
        tx.commit()?;
        Ok(Store { conn, files })
    }

    /// The raw connection, for queries built elsewhere.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The folder of file contents and upload chunks (shared: chunks are written without the
    /// database's lock).
    pub fn files(&self) -> &Arc<FileDir> {
        &self.files
    }

    /// Inserts a record; `rec` must contain `id`. Unknown keys are ignored.
    pub fn insert(&self, e: &Entity, rec: &Record) -> Result<(), StoreError> {
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        for f in &e.fields {
            if let Some(v) = rec.get(&f.name) {
                cols.push(ident(&f.name));
                vals.push(to_sql(f.kind, v));
            }
        }
        let marks = vec!["?"; cols.len()].join(",");
        self.conn.execute(
            &format!(
                "INSERT INTO {} ({}) VALUES ({marks})",
                ident(&e.name),
                cols.join(",")
            ),
            params_from_iter(vals),
        )?;
        Ok(())
    }

    /// Updates the given fields of record `id`.
    pub fn update(&self, e: &Entity, id: &str, rec: &Record) -> Result<(), StoreError> {
        let mut sets = Vec::new();
        let mut vals = Vec::new();
        for f in &e.fields {
            if f.name == "id" {
                continue;
            }
            if let Some(v) = rec.get(&f.name) {
                sets.push(format!("{}=?", ident(&f.name)));
                vals.push(to_sql(f.kind, v));
            }
        }
        if sets.is_empty() {
            return Ok(());
        }
        vals.push(SqlValue::Text(id.to_string()));
        self.conn.execute(
            &format!(
                "UPDATE {} SET {} WHERE \"id\"=?",
                ident(&e.name),
                sets.join(",")
            ),
            params_from_iter(vals),
        )?;
        Ok(())
    }

    /// Removes record `id` for good.
    pub fn purge(&self, e: &Entity, id: &str) -> Result<(), StoreError> {
        self.conn.execute(
            &format!("DELETE FROM {} WHERE \"id\"=?", ident(&e.name)),
            [id],
        )?;
        self.conn.execute(
            "DELETE FROM _sim_attr_value WHERE entity=? AND record_id=?",
            [&e.name, id],
        )?;
        self.conn.execute(
            "DELETE FROM _sim_audit WHERE entity=? AND id=?",
            [&e.name, id],
        )?;
        Ok(())
    }

    /// Reads record `id`, including soft-deleted ones (check the `deleted` field).
    pub fn get_any(&self, e: &Entity, id: &str) -> Result<Option<Record>, StoreError> {
        let rows = self.select(
            e,
            "\"id\"=?",
            vec![SqlValue::Text(id.to_string())],
            "",
            None,
            0,
        )?;
        Ok(rows.into_iter().next())
    }

    /// Reads a live (not deleted) record.
    pub fn get(&self, e: &Entity, id: &str) -> Result<Option<Record>, StoreError> {
        Ok(self
            .get_any(e, id)?
            .filter(|r| r.get("deleted") != Some(&Value::Bool(true))))
    }

    /// Selects records with a WHERE clause (over alias `t`), ORDER BY text, limit and offset.
    pub fn select(
        &self,
        e: &Entity,
        where_sql: &str,
        params: Vec<SqlValue>,
        order: &str,
        limit: Option<i64>,
        offset: i64,
    ) -> Result<Vec<Record>, StoreError> {
        let cols: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("t.{}", ident(&f.name)))
            .collect();
        let mut sql = format!(
            "SELECT {} FROM {} t WHERE {}",
            cols.join(","),
            ident(&e.name),
            if where_sql.is_empty() { "1" } else { where_sql }
        );
        if !order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(order);
        }
        sql.push_str(&format!(
            " LIMIT {} OFFSET {}",
            limit.unwrap_or(-1),
            offset.max(0)
        ));
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(params_from_iter(params), |row| {
            let mut rec = Map::new();
            for (i, f) in e.fields.iter().enumerate() {
                let v: SqlValue = row.get(i)?;
                rec.insert(f.name.clone(), from_sql(f.kind, v));
            }
            Ok(rec)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts records matching a WHERE clause (over alias `t`).
    pub fn count(
        &self,
        e: &Entity,
        where_sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} t WHERE {}",
            ident(&e.name),
            if where_sql.is_empty() { "1" } else { where_sql }
        );
        Ok(self
            .conn
            .query_row(&sql, params_from_iter(params), |r| r.get(0))?)
    }

    /// The next number of an `autoincrement` column: its largest value (deleted rows included)
    /// plus one.
    pub fn next_number(&self, e: &Entity, column: &str) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT COALESCE(MAX(CAST({} AS INTEGER)), 0) + 1 FROM {}",
            ident(column),
            ident(&e.name)
        );
        Ok(self.conn.query_row(&sql, [], |r| r.get(0))?)
    }

    /// The `name` of record `id` of entity `table`, if both exist.
    pub fn name_of(&self, table: &Entity, id: &str) -> Option<Value> {
        table.field("name")?;
        self.conn
            .query_row(
                &format!("SELECT \"name\" FROM {} WHERE \"id\"=?", ident(&table.name)),
                [id],
                |r| r.get::<_, Option<String>>(0),
            )
            .ok()
            .map(|n| n.map(Value::String).unwrap_or(Value::Null))
    }

    /// Relates two records through a link that has no column on either side (many-to-many).
    pub fn rel_add(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        other: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO _sim_rel (entity, id, link, other_id) VALUES (?, ?, ?, ?)",
            [entity, id, link, other],
        )?;
        Ok(())
    }

    /// Removes a many-to-many relation.
    pub fn rel_remove(
        &self,
        entity: &str,
        id: &str,
        link: &str,
        other: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM _sim_rel WHERE entity=? AND id=? AND link=? AND other_id=?",
            [entity, id, link, other],
        )?;
        Ok(())
    }

    /// Sets (or with `None` clears) the delegated-session audit entry `kind` (`createdBy`,
    /// `modifiedBy`) of a record.
    pub fn set_audit(
        &self,
        entity: &str,
        id: &str,
        kind: &str,
        data: Option<&Value>,
    ) -> Result<(), StoreError> {
        match data {
            Some(d) => self.conn.execute(
                "INSERT OR REPLACE INTO _sim_audit (entity, id, kind, data) VALUES (?, ?, ?, ?)",
                [entity, id, kind, d.to_string().as_str()],
            )?,
            None => self.conn.execute(
                "DELETE FROM _sim_audit WHERE entity=? AND id=? AND kind=?",
                [entity, id, kind],
            )?,
        };
        Ok(())
    }

    /// The audit entries of a record by kind (empty when no delegated session touched it).
    pub fn audit(&self, entity: &str, id: &str) -> Result<Map<String, Value>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT kind, data FROM _sim_audit WHERE entity=? AND id=? ORDER BY kind",
        )?;
        let rows = st.query_map([entity, id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Map::new();
        for row in rows {
            let (kind, data) = row?;
            out.insert(kind, serde_json::from_str(&data).unwrap_or(Value::Null));
        }
        Ok(out)
    }

    /// Stores `bytes` as the content of file `id` (seeding; uploads write their content first
    /// and name it with [`set_content`](Self::set_content) in the record's transaction).
    pub fn put_blob(&self, id: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let content = self.files.content_from(bytes)?;
        if let Some(old) = self.set_content(id, &content)? {
            self.files.remove_content(&old);
        }
        content.keep();
        Ok(())
    }

    /// Makes `content` the content of file `id`; returns the name of the content it replaced
    /// (remove it once the transaction is committed). The caller keeps `content` after the
    /// commit.
    pub fn set_content(&self, id: &str, content: &Content) -> Result<Option<String>, StoreError> {
        let old =
            match self
                .conn
                .query_row("SELECT name FROM _sim_file_content WHERE id=?", [id], |r| {
                    r.get::<_, String>(0)
                }) {
                Ok(name) => Some(name),
                Err(rusqlite::Error::QueryReturnedNoRows) => None,
                Err(e) => return Err(e.into()),
            };
        self.conn.execute(
            "INSERT OR REPLACE INTO _sim_file_content (id, name) VALUES (?, ?)",
            rusqlite::params![id, content.name()],
        )?;
        self.conn
            .execute("DELETE FROM _sim_file_blob WHERE id=?", [id])?;
        Ok(old)
    }

    /// Where the content of file `id` is.
    pub fn blob(&self, id: &str) -> Result<Option<StoredContent>, StoreError> {
        match self
            .conn
            .query_row("SELECT name FROM _sim_file_content WHERE id=?", [id], |r| {
                r.get::<_, String>(0)
            }) {
            Ok(name) => return Ok(self.files.content_path(&name).map(StoredContent::File)),
            Err(rusqlite::Error::QueryReturnedNoRows) => {}
            Err(e) => return Err(e.into()),
        }
        match self
            .conn
            .query_row("SELECT bytes FROM _sim_file_blob WHERE id=?", [id], |r| {
                r.get(0)
            }) {
            Ok(b) => Ok(Some(StoredContent::Bytes(b))),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Attribute values of a record in assignment order: (attribute id, data object).
    pub fn attr_values(&self, entity: &str, id: &str) -> Result<Vec<(String, Record)>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT attribute_id, data FROM _sim_attr_value WHERE entity=? AND record_id=? ORDER BY seq",
        )?;
        let rows = st.query_map([entity, id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (a, d) = row?;
            let data = serde_json::from_str::<Value>(&d)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            out.push((a, data));
        }
        Ok(out)
    }

    /// Writes (creates or replaces) the value data of one attribute of a record.
    pub fn put_attr_value(
        &self,
        entity: &str,
        id: &str,
        attribute_id: &str,
        data: &Record,
    ) -> Result<(), StoreError> {
        let text = Value::Object(data.clone()).to_string();
        let updated = self.conn.execute(
            "UPDATE _sim_attr_value SET data=? WHERE entity=? AND record_id=? AND attribute_id=?",
            rusqlite::params![text, entity, id, attribute_id],
        )?;
        if updated == 0 {
            self.conn.execute(
                "INSERT INTO _sim_attr_value (entity, record_id, attribute_id, data, seq)
                 VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM _sim_attr_value))",
                rusqlite::params![entity, id, attribute_id, text],
            )?;
        }
        Ok(())
    }

    /// Removes an attribute from a record; true when it was assigned.
    pub fn delete_attr_value(
        &self,
        entity: &str,
        id: &str,
        attribute_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM _sim_attr_value WHERE entity=? AND record_id=? AND attribute_id=?",
            [entity, id, attribute_id],
        )? > 0)
    }
}

/// Converts a JSON value to the SQL value stored in a column of `kind`.
pub fn to_sql(kind: Kind, v: &Value) -> SqlValue {
    match (kind, v) {
        (_, Value::Null) => SqlValue::Null,
        (Kind::Json, v) => SqlValue::Text(v.to_string()),
        (_, Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        (Kind::Float, Value::Number(n)) => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        (_, Value::Number(n)) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        (_, Value::String(s)) => SqlValue::Text(s.clone()),
        (_, other) => SqlValue::Text(other.to_string()),
    }
}

/// Converts a stored SQL value back to JSON for a column of `kind`.
pub fn from_sql(kind: Kind, v: SqlValue) -> Value {
    match (kind, v) {
        (_, SqlValue::Null) => Value::Null,
        (Kind::Bool, SqlValue::Integer(i)) => Value::Bool(i != 0),
        (Kind::Json, SqlValue::Text(t)) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
        (Kind::Float, SqlValue::Integer(i)) => serde_json::Number::from_f64(i as f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (_, SqlValue::Integer(i)) => Value::from(i),
        (_, SqlValue::Real(f)) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (_, SqlValue::Text(t)) => Value::String(t),
        (_, SqlValue::Blob(b)) => Value::String(String::from_utf8_lossy(&b).into_owned()),
    }
}
