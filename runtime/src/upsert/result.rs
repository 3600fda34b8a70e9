//! What the server answers per item: [`UpsertStatus`], [`UpsertResult`], read straight from the
//! answer's text.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde_json::Value;

use super::item::UpsertItem;
use crate::error::{Error, ErrorKind, Result};

/// What AtroCore did with one item.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpsertStatus {
    /// A new record was created.
    Created,
    /// An existing record was found and changed.
    Updated,
    /// An existing record was found and already had these values.
    NotModified,
    /// The item was rejected; [`UpsertResult::message`] says why.
    Failed,
    /// Unknown: the request carrying the item failed after the server may have acted on it, and
    /// the item has neither an `id` nor a unique field to find its record by, so it was not sent
    /// again (that could create it twice). Look for it before sending it again.
    OutcomeUnknown,
}

impl UpsertStatus {
    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Created" => Self::Created,
            "Updated" => Self::Updated,
            "NotModified" => Self::NotModified,
            "Failed" => Self::Failed,
            _ => return None,
        })
    }

    /// The wire name: `Created`, `Updated`, `NotModified` or `Failed` (and `OutcomeUnknown`,
    /// which only the runtime gives).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Updated => "Updated",
            Self::NotModified => "NotModified",
            Self::Failed => "Failed",
            Self::OutcomeUnknown => "OutcomeUnknown",
        }
    }
}

impl fmt::Display for UpsertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one item, read from either generation's answer.
///
/// 2.2 answers `{status, stored, entity: <the full record>}` or, on failure,
/// `{status: "Failed", stored: false, message: "Code: 400. Message: …"}`; 2.3 answers
/// `{status, stored, entity: <the entity name>, id}` or `{…, message, code}`. Both become this.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertResult {
    /// The position of the item in the input (over all batches).
    pub index: usize,
    /// What happened.
    pub status: UpsertStatus,
    /// Whether the record was written to the database.
    pub stored: bool,
    /// The entity name of the item.
    pub entity: String,
    /// The record's id (2.3: `id`; 2.2: the record's `id`), when the server tells it.
    pub id: Option<String>,
    /// The full record after the upsert (2.2 sends it for `Created` and `Updated`).
    pub record: Option<Value>,
    /// The server's message of a `Failed` item (2.2's `Code: N. Message: ` prefix removed).
    pub message: Option<String>,
    /// The HTTP-like status code of a `Failed` item (2.3's `code`, or parsed from 2.2's message).
    pub code: Option<u16>,
}

impl UpsertResult {
    /// `Created`, `Updated` or `NotModified`.
    pub fn is_ok(&self) -> bool {
        matches!(
            self.status,
            UpsertStatus::Created | UpsertStatus::Updated | UpsertStatus::NotModified
        )
    }

    pub(super) fn outcome_unknown(index: usize, item: &UpsertItem, error: &Error) -> Self {
        Self {
            index,
            status: UpsertStatus::OutcomeUnknown,
            stored: false,
            entity: item.entity.clone(),
            id: None,
            record: None,
            message: Some(format!(
                "the request failed after the server may have stored the item ({error}); it has \
                 no id or unique field, so it was not sent again"
            )),
            code: None,
        }
    }

    /// Reads one result of the answer; `item_entity` is the entity of the input item it
    /// belongs to.
    pub(super) fn from_wire(index: usize, item_entity: &str, w: WireResult<'_>) -> Result<Self> {
        let status = w
            .status
            .as_deref()
            .and_then(UpsertStatus::parse)
            .ok_or_else(|| decode_error("an upsert result has no known `status`"))?;
        let stored = w
            .stored
            .as_ref()
            .and_then(Value::as_bool)
            .unwrap_or(status != UpsertStatus::Failed);
        let mut id = match w.id {
            Some(Value::String(id)) => Some(id),
            _ => None,
        };
        let mut record = None;
        let entity = match w.entity {
            Some(Value::String(name)) if !name.is_empty() => name,
            Some(rec @ Value::Object(_)) => {
                if id.is_none() {
                    id = rec.get("id").and_then(Value::as_str).map(str::to_owned);
                }
                record = Some(rec);
                item_entity.to_owned()
            }
            _ => item_entity.to_owned(),
        };
        let mut code = w
            .code
            .and_then(|c| match c {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .and_then(|c| u16::try_from(c).ok());
        let message = w.message.as_ref().and_then(Value::as_str).map(|m| {
            let (parsed, rest) = split_coded_message(m);
            if code.is_none() {
                code = parsed;
            }
            rest.to_owned()
        });
        Ok(Self {
            index,
            status,
            stored,
            entity,
            id,
            record,
            message,
            code,
        })
    }
}

/// One result of an upsert answer as sent, read straight from the answer's text (no map per
/// result; the status borrowed from the text). Members of an unexpected type are ignored as
/// before, except a `status` that is not a string (a decode error, as an unknown one is); a
/// result that is not an object is a decode error.
#[derive(Default)]
pub(super) struct WireResult<'a> {
    status: Option<Cow<'a, str>>,
    stored: Option<Value>,
    /// 2.2: the record; 2.3: the entity name.
    entity: Option<Value>,
    id: Option<Value>,
    message: Option<Value>,
    code: Option<Value>,
}

impl<'de: 'a, 'a> Deserialize<'de> for WireResult<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};

        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "lowercase")]
        enum Field {
            Status,
            Stored,
            Entity,
            Id,
            Message,
            Code,
            #[serde(other)]
            Other,
        }
        /// A string borrowed from the text when it has no escapes.
        #[derive(Deserialize)]
        struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

        struct ResultVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ResultVisitor<'a> {
            type Value = WireResult<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an upsert result object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<WireResult<'a>, A::Error> {
                let mut w = WireResult::default();
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Status => {
                            w.status = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0)
                        }
                        Field::Stored => w.stored = map.next_value()?,
                        Field::Entity => w.entity = map.next_value()?,
                        Field::Id => w.id = map.next_value()?,
                        Field::Message => w.message = map.next_value()?,
                        Field::Code => w.code = map.next_value()?,
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(w)
            }
        }
        d.deserialize_map(ResultVisitor(std::marker::PhantomData))
    }
}

/// Splits 2.2's `Code: 400. Message: text` into `(Some(400), "text")`.
pub(super) fn split_coded_message(m: &str) -> (Option<u16>, &str) {
    let Some(rest) = m.strip_prefix("Code: ") else {
        return (None, m);
    };
    let Some((num, tail)) = rest.split_once('.') else {
        return (None, m);
    };
    let Ok(code) = num.trim().parse::<u16>() else {
        return (None, m);
    };
    let tail = tail.trim_start();
    (
        Some(code),
        tail.strip_prefix("Message:").unwrap_or(tail).trim(),
    )
}

pub(super) fn decode_error(message: &'static str) -> Error {
    Error::new(ErrorKind::Decode).with_message(message)
}

/// A batch whose request failed (after the retries allowed): none of its items has a result.
#[derive(Debug)]
pub struct FailedBatch {
    /// The input indices the batch covered.
    pub indices: Range<usize>,
    /// Why the request failed.
    pub error: Error,
    /// Whether the server may have stored some items before the request failed (a dropped
    /// connection, a timeout, a `5xx`, an answer 2.3 refused after the route ran:
    /// [`Error::may_have_been_applied`]), rather than rejecting the request as a whole.
    pub may_have_been_applied: bool,
}

/// The outcome of one batch, as yielded by [`UpsertRequest::stream`](crate::UpsertRequest::stream).
pub type BatchOutcome = std::result::Result<Vec<UpsertResult>, FailedBatch>;
