//! Query strings as PHP reads them, and AtroCore's `where` semantics translated to SQL.

pub mod dates;
pub mod phpqs;
pub mod where_sql;
