//! "Have a code?": a collapsed field beside the order summary. The code is judged by the api
//! alone: Apply asks for a quote with it, and only a code the api accepted goes on the form,
//! from where the summary and the card frame's payment intent price it. A refusal is said
//! beside the field in the visitor's language; so is one the api makes at Pay time (the code
//! ran out meanwhile), and the buyer can remove the code and see the full price beside Pay.

use crate::checkout::bind::bind;
use crate::checkout::bind::handler;
use crate::checkout::form::{error_for, CheckoutForm};
use crate::checkout::react::Edit;
use crate::checkout::wire;
use crate::shared::api::ClientError;
use crate::shared::context::widget_ctx;
use crate::shared::i18n::{Key, SheetLocale};
use leptos::prelude::*;
use tweetbuy_core::discount::{normalize_code, FIELD};
use tweetbuy_core::{DiscountRefusal, FieldError, Offer};

/// What Apply found.
#[derive(Debug, PartialEq)]
pub(crate) enum Applied {
    /// The api priced the choice with this code.
    Yes(String),
    /// The api refused the code: the field error to show.
    Refused(FieldError),
    /// Something else went wrong: a message for the visitor.
    Failed(Key),
}

/// The outcome of asking the api to price `code`.
pub(crate) fn applied(code: String, answer: Result<(), ClientError>) -> Applied {
    match answer {
        Ok(()) => Applied::Yes(code),
        Err(ClientError::Api { error, .. }) => match error.fields.into_iter().find(|f| f.field == FIELD) {
            Some(refusal) => Applied::Refused(refusal),
            None => Applied::Failed(Key::SomethingWrong),
        },
        Err(ClientError::Network(_)) => Applied::Failed(Key::NetworkError),
        Err(ClientError::Decode { .. }) => Applied::Failed(Key::Unreadable),
    }
}

/// The discount code field of the details step.
#[component]
pub fn DiscountField(
    offer: StoredValue<Offer>,
    form: RwSignal<CheckoutForm>,
    /// The step's field errors (the api's, at Pay time, included), in the visitor's language.
    errors: RwSignal<Vec<FieldError>>,
    locale: SheetLocale,
    /// Told when the applied code changes, so the frame is shown the new cart at once.
    edited: Callback<Edit>,
    /// Pay is paying: the frame pays the cart it has, which a code applied now would change.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let api = widget_ctx().api;
    let open = RwSignal::new(form.with_untracked(|d| !d.discount_code.is_empty()));
    let typed = RwSignal::new(String::new());
    let checking = RwSignal::new(false);
    let root = crate::checkout::focus::SheetRoot::current();
    // What the status line says once a code is applied (the field that had focus is gone).
    let said = RwSignal::new(None::<String>);
    let error = move || errors.with(|e| error_for(e, FIELD));
    let set_error = move |found: Option<FieldError>| {
        errors.update(|e| e.retain(|f| f.field != FIELD));
        if let Some(found) = found {
            let message = locale.with(|l| l.field_error(&found, "", 1));
            errors.update(|e| e.push(FieldError { message, ..found }));
        }
    };
    let apply = Callback::new(move |()| {
        if checking.get_untracked() {
            return;
        }
        let Ok(code) = normalize_code(&typed.get_untracked()) else {
            return set_error(Some(DiscountRefusal::Unknown.field_error()));
        };
        let mut request = offer.with_value(|o| form.with_untracked(|d| d.quote_request(o)));
        request.discount_code = Some(code.clone());
        let api = api.clone();
        checking.set(true);
        leptos::task::spawn_local(async move {
            let answer = api.post_parsed("/api/v1/quote", wire::quote_request(&request), None).await.map(|_| ());
            // The field is gone (the buyer went back, or closed the sheet): its step's
            // callbacks with it, and nothing to say. The code is not applied.
            if checking.try_set(false).is_some() {
                return;
            }
            // Pay was pressed while the code was checked: the payment goes on without it.
            if busy.get_untracked() {
                return;
            }
            match applied(code, answer) {
                Applied::Yes(code) => {
                    set_error(None);
                    said.set(Some(locale.fill(Key::CodeApplied, &[("code", &code)])));
                    form.update(|d| d.discount_code = code);
                    typed.set(String::new());
                    edited.run(Edit::Done);
                    // Focus goes where the field was: to Remove, next to what was applied.
                    crate::checkout::focus::focus_soon(root, &[".tb-discount-applied button"]);
                }
                Applied::Refused(refusal) => set_error(Some(refusal)),
                Applied::Failed(key) => set_error(Some(FieldError::new(FIELD, "", locale.t(key)))),
            }
        });
    });
    let remove = move |_| {
        form.update(|d| d.discount_code.clear());
        set_error(None);
        said.set(None);
        open.set(true);
        edited.run(Edit::Done);
        crate::checkout::focus::focus_soon(root, &["#tb-discount_code"]);
    };
    let applied_code = move || form.with(|d| d.discount());
    let entry = move || {
        view! {
            <div class="tb-field" part="field">
                <label for="tb-discount_code">{locale.t(Key::DiscountCode)}</label>
                <div class="tb-discount-row">
                    <input id="tb-discount_code" type="text" autocomplete="off" autocapitalize="characters"
                        spellcheck="false" maxlength="32"
                        aria-invalid=bind(move || if error().is_some() { "true" } else { "false" })
                        aria-describedby="tb-discount_code-error"
                        prop:value=bind(move || typed.get())
                        on:input=handler(move |ev| typed.set(event_target_value(&ev)))
                        // Enter applies the code; it does not send the whole form.
                        on:keydown=handler(move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); apply.run(()); })
                    />
                    <button type="button" class="tb-secondary" aria-disabled=bind(move || checking.get().then_some("true"))
                        on:click=handler(move |_| apply.run(()))>
                        {locale.t(Key::ApplyCode)}
                    </button>
                </div>
            </div>
        }
    };
    let shown = move || match applied_code() {
        Some(code) => view! {
            <p class="tb-discount-applied">
                <span>{locale.fill(Key::CodeApplied, &[("code", &code)])}</span>
                <button type="button" class="tb-discount-toggle" on:click=handler(remove)>
                    {locale.fill(Key::RemoveCode, &[("code", &code)])}
                </button>
            </p>
        }
        .into_any(),
        None if open.get() => entry().into_any(),
        None => view! {
            <button type="button" class="tb-discount-toggle" aria-expanded="false"
                on:click=handler(move |_| {
                    open.set(true);
                    crate::checkout::focus::focus_soon(root, &["#tb-discount_code"]);
                })>
                {locale.t(Key::HaveCode)}
            </button>
        }
        .into_any(),
    };
    view! {
        <div class="tb-discount">
            {bind(shown)}
            <p class="tb-discount-status" role="status">
                {bind(move || if checking.get() { Some(locale.t(Key::CheckingCode)) } else { said.get() })}
            </p>
            <p id="tb-discount_code-error" class="tb-error" role="alert">{bind(error)}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::{ApiError, ErrorCode};

    #[test]
    fn only_a_code_the_api_priced_is_applied() {
        assert_eq!(applied("TWEET10".into(), Ok(())), Applied::Yes("TWEET10".into()));
        let mut refused = ApiError::new(ErrorCode::ValidationFailed, "x");
        refused.fields = vec![DiscountRefusal::Expired.field_error()];
        let answer = Err(ClientError::Api { status: 422, error: refused });
        assert_eq!(applied("OLD".into(), answer), Applied::Refused(DiscountRefusal::Expired.field_error()));
        let other = ApiError::new(ErrorCode::Internal, "x");
        assert_eq!(
            applied("A12".into(), Err(ClientError::Api { status: 500, error: other })),
            Applied::Failed(Key::SomethingWrong)
        );
        assert_eq!(applied("A12".into(), Err(ClientError::Network("down".into()))), Applied::Failed(Key::NetworkError));
    }
}
