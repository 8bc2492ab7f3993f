//! AWS's clock: the `Date` of the latest answer a client had, carried forward by the local
//! monotonic clock. A cut-off written into a policy (`aws:TokenIssueTime`) is compared
//! with AWS's time, not the laptop's, so it is taken from here.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, Utc};

/// An answer's time, and when it came.
type Seen = Option<(DateTime<Utc>, Instant)>;

/// The time AWS last said it was, and when that was said (shared by the clients that
/// carry this interceptor).
#[derive(Debug, Clone, Default)]
pub struct AwsClock {
    seen: Arc<Mutex<Seen>>,
}

impl AwsClock {
    /// AWS's time now, if an answer said what it was.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        let seen = *self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.map(|(date, at)| date + at.elapsed())
    }

    /// Notes an answer's `Date` header (RFC 7231's IMF-fixdate).
    pub fn saw(&self, date: &str) {
        if let Ok(date) = DateTime::parse_from_rfc2822(date) {
            *self.seen.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((date.with_timezone(&Utc), Instant::now()));
        }
    }
}

impl Intercept for AwsClock {
    fn name(&self) -> &'static str {
        "AwsClock"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            self.saw(date);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_http_date_and_moves_on_from_it() {
        let clock = AwsClock::default();
        assert_eq!(clock.now(), None);
        clock.saw("not a date");
        assert_eq!(clock.now(), None);
        clock.saw("Thu, 03 Dec 2026 16:44:21 GMT");
        let now = clock.now().unwrap();
        assert_eq!(
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "2026-12-03T16:44:21Z"
        );
    }
}
