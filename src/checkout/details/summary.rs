//! The details step's two summaries: what needs fixing (an alert listing every field
//! error), and the price breakdown from the api's quote (the frame shows the authoritative
//! amount beside Pay).

use crate::checkout::bind::bind;
use crate::checkout::form::{field_label, CheckoutForm};
use crate::checkout::{messages, wire};
use crate::shared::api::ClientError;
use crate::shared::context::widget_ctx;
use crate::shared::format;
use crate::shared::i18n::{Key, Locale, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::{FieldError, Money, Offer, Quote};

/// Whether the failure line is shown: "Some details need fixing" goes once nothing is left
/// to fix; any other failure stays.
pub fn failure_shown(failure: Option<&str>, fix_fields: &str, errors_left: bool) -> bool {
    failure.is_some_and(|f| f != fix_fields || errors_left)
}

/// The alert above the form: the failure, and each field error with its field's label.
pub fn error_summary(
    errors: RwSignal<Vec<FieldError>>,
    failure: RwSignal<Option<String>>,
    locale: SheetLocale,
    us: Memo<bool>,
) -> impl IntoView {
    let fix = locale.t(Key::FixFields);
    let title = move || {
        let left = errors.with(|e| !e.is_empty());
        failure
            .get()
            .filter(|f| failure_shown(Some(f), &fix, left))
            .map(|f| view! { <p class="tb-failure-title">{f}</p> }.into_any())
    };
    let list = move || {
        errors.with(|e| {
            e.iter()
                .map(|f| view! { <li>{format!("{}: {}", locale.t(field_label(&f.field, us.get())), f.message)}</li> })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <div class="tb-failure" role="alert" tabindex="-1">
            {bind(title)}
            <ul class="tb-error-list">{bind(list)}</ul>
        </div>
    }
}

/// Subtotal, the discount of an applied code, shipping (goods only), tax and total for the current choice and destination.
/// Only what changes the price asks again, not every keystroke of the email. "Calculating"
/// shows until the first answer; while a newer one is on its way the last one stays. An
/// answer another try may change (no answer, 429, 5xx) is asked for again every
/// [`RETRY_MS`] while it stands, so the total comes back with the connection.
///
/// A signal set from a spawned request, not a `LocalResource` in a `<Transition>`: those
/// bring Leptos's async and suspense machinery into the module for this one use.
#[component]
pub fn QuoteSummary(offer: StoredValue<Offer>, form: RwSignal<CheckoutForm>, locale: SheetLocale) -> impl IntoView {
    let api = widget_ctx().api;
    let request = Memo::new(move |_| offer.with_value(|o| form.with(|d| d.quote_request(o))));
    let quote = RwSignal::new(None::<Result<Quote, ClientError>>);
    // Which request is the latest: an answer to an older one is dropped. Read untracked.
    let asked = RwSignal::new(0i64);
    crate::checkout::bind::effect(move |_| {
        let (body, api) = (request.with(wire::quote_request), api.clone());
        let Some(n) = asked.try_update_untracked(|n| {
            *n += 1;
            *n
        }) else {
            return;
        };
        leptos::task::spawn_local(async move {
            // Asked again while the answer is one another try may change and this request
            // is still the latest.
            loop {
                let answer = match api.post_parsed("/api/v1/quote", body.clone(), None).await {
                    Ok(answer) => {
                        wire::quote(&answer).ok_or(ClientError::Decode { status: 200, detail: "not a quote".into() })
                    }
                    Err(e) => Err(e),
                };
                if asked.try_get_untracked() != Some(n) {
                    break;
                }
                let again = answer.as_ref().is_err_and(crate::shared::api::retryable);
                quote.try_set(Some(answer));
                if !again {
                    break;
                }
                crate::shared::util::sleep(RETRY_MS).await;
            }
        });
    });
    let physical = offer.with_value(|o| o.kind.needs_shipping());
    let tag = locale.tag();
    let calculating = locale.t(Key::Calculating);
    bind(move || {
        quote.with(|result| match result {
            None => view! { <p class="tb-muted">{calculating.clone()}</p> }.into_any(),
            Some(Ok(q)) => {
                let row = |key: Key, amount| {
                    view! {
                        <div class="tb-row">
                            <dt>{locale.t(key)}</dt>
                            <dd>{format::money(&amount, &tag)}</dd>
                        </div>
                    }
                };
                let discount = q.discount.as_ref().map(|d| {
                    let off = Money::new(-d.amount.minor, d.amount.currency);
                    view! {
                        <div class="tb-row tb-discount-line">
                            <dt>{locale.fill(Key::Discount, &[("code", &d.code)])}</dt>
                            <dd>{format::money(&off, &tag)}</dd>
                        </div>
                    }
                });
                view! {
                    <section class="tb-order-summary" aria-labelledby="tb-summary-title">
                        <h3 id="tb-summary-title" class="tb-subtitle">{locale.t(Key::OrderSummary)}</h3>
                        <dl class="tb-summary">
                            {row(Key::Subtotal, q.subtotal)}
                            {discount}
                            {physical.then(|| row(Key::Shipping, q.shipping))}
                            {row(Key::Tax, q.tax)}
                            {row(Key::Total, q.total)}
                        </dl>
                    </section>
                }
                .into_any()
            }
            // An alert, which a screen reader announces as it is put in the page (a status
            // region is only heard reliably when it was there, empty, before).
            Some(Err(e)) => {
                view! { <p class="tb-error" role="alert">{locale.with(|locale| quote_failure(locale, e))}</p> }
                    .into_any()
            }
        })
    })
}

/// The wait before the summary asks again for a total it could not get.
const RETRY_MS: i32 = 5_000;

/// Why there is no total: nothing is being paid here, so a lost connection is not the
/// payment's "you will not be charged twice".
fn quote_failure(locale: &Locale, error: &ClientError) -> String {
    match error {
        ClientError::Network(_) => locale.t(Key::TotalUnreachable),
        other => messages::for_error(locale, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_fields_goes_once_everything_is_fixed_and_other_failures_stay() {
        let fix = "Some details need fixing:";
        assert!(failure_shown(Some(fix), fix, true));
        assert!(!failure_shown(Some(fix), fix, false));
        assert!(failure_shown(Some("Sorry, this just sold out."), fix, false));
        assert!(!failure_shown(None, fix, true));
    }
}
