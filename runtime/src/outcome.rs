//! [`WriteOutcome`]: a write that changed the record, or one that AtroCore answered with
//! `304 Not Modified`.

/// Whether a write changed the record: AtroCore answers `304 Not Modified` to a write that
/// changes nothing on routes that let its `NotModified` through (attribute writes).
///
/// ```
/// use atrocore_runtime::WriteOutcome;
///
/// assert!(WriteOutcome::Changed.is_changed());
/// assert!(WriteOutcome::NotModified.is_not_modified());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WriteOutcome {
    /// The server applied the write (`200`).
    #[default]
    Changed,
    /// Nothing changed: the server answered `304 Not Modified` (the values were already
    /// there, or none of the attributes to remove was on the record), or, for a removal on
    /// 2.2, said it removed none.
    NotModified,
}

impl WriteOutcome {
    /// The write changed the record.
    pub fn is_changed(self) -> bool {
        self == Self::Changed
    }

    /// Nothing changed.
    pub fn is_not_modified(self) -> bool {
        self == Self::NotModified
    }
}
