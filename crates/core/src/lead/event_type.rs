//! The type of an activity or event: free text, as the CRM names it.
//!
//! Why free text: a CRM logs its own activity types (`email_click`, `sales_call`, `Phone
//! Call`), and a model trained on a history learns from whichever types its events hold
//! (docs/history.md). The canonical [`ActivityType`]s stay the documented vocabulary of the
//! lead record: a text that names one of them, in any ASCII case and with surrounding blanks,
//! is spelled as the set spells it (`" Demo_Request "` is `demo_request`), so a record, an
//! events table and a rules file that name a canonical type always mean the same one. Other
//! texts are kept as sent (trimmed). [`EventType::new`] is the one place this normalisation
//! happens; the field is private, so every `EventType` went through it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ActivityType;

/// The type of one activity or event (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "demo_request", pattern = "[^\\s\\u0085]"))]
#[serde(transparent)]
pub struct EventType(String);

/// A blank event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an event type must not be blank")]
pub struct BlankEventType;

impl EventType {
    /// The type named by `text`: a canonical type in its canonical spelling, else the text
    /// trimmed.
    ///
    /// # Errors
    /// [`BlankEventType`] when the text is empty after trimming.
    pub fn new(text: &str) -> Result<EventType, BlankEventType> {
        let t = text.trim();
        if t.is_empty() {
            return Err(BlankEventType);
        }
        Ok(match t.parse::<ActivityType>() {
            Ok(canonical) => EventType(canonical.as_str().to_string()),
            Err(_) => EventType(t.to_string()),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The canonical activity type this is, if it is one.
    pub fn canonical(&self) -> Option<ActivityType> {
        ActivityType::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == self.0)
    }
}

impl From<ActivityType> for EventType {
    fn from(kind: ActivityType) -> Self {
        EventType(kind.as_str().to_string())
    }
}

impl PartialEq<ActivityType> for EventType {
    fn eq(&self, other: &ActivityType) -> bool {
        self.0 == other.as_str()
    }
}

impl std::str::FromStr for EventType {
    type Err = BlankEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::new(s)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EventType::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_types_are_spelled_canonically_and_others_kept() {
        let t = EventType::new(" Demo_Request ").expect("not blank");
        assert_eq!(t.as_str(), "demo_request");
        assert_eq!(t, ActivityType::DemoRequest);
        assert_eq!(t.canonical(), Some(ActivityType::DemoRequest));
        let own = EventType::new(" Phone Call ").expect("not blank");
        assert_eq!(own.as_str(), "Phone Call");
        assert_eq!(own.canonical(), None);
        assert_ne!(own, ActivityType::DemoRequest);
        assert_eq!(EventType::new("  "), Err(BlankEventType));
        let json: EventType = serde_json::from_str(r#""EMAIL_OPEN""#).expect("json");
        assert_eq!(json, EventType::from(ActivityType::EmailOpen));
        assert_eq!(
            serde_json::to_string(&json).expect("serialises"),
            r#""email_open""#
        );
        assert!(serde_json::from_str::<EventType>(r#""""#).is_err());
    }
}
