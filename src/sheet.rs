//! The modal sheet that walks from product to checkout to confirmation.
//!
//! A native `<dialog>` opened with `showModal()`: it sits in the top layer above anything
//! the host page does with z-index or transforms, makes the page inert behind it, traps
//! focus and closes on Escape.

use crate::checkout::{Checkout, Details};
use crate::confirmation::Confirmation;
use crate::product_sheet::ProductSheet;
use leptos::prelude::*;
use tweetbuy_core::{Offer, OrderReceipt};

/// Where the visitor is in the purchase.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Product,
    Checkout,
    Confirmed(Box<OrderReceipt>),
}

/// The product / checkout / confirmation dialog for one offer.
#[component]
pub fn Sheet(
    /// The offer being bought.
    offer: Offer,
    /// What the visitor typed; owned by the button so it survives closing the sheet.
    details: RwSignal<Details>,
    /// Called when the visitor closes the sheet (button, Escape).
    on_close: Callback<()>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        if let Some(d) = dialog.get() {
            if !d.open() {
                let _ = d.show_modal();
            }
        }
    });
    // Leave the modal state first, so the page behind is no longer inert and the Buy button
    // can take focus back.
    let close = Callback::new(move |_: ()| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
        on_close.run(());
    });
    let step = RwSignal::new(Step::Product);
    let title = offer.title.clone();
    let offer = StoredValue::new(offer);
    view! {
        <dialog
            node_ref=dialog
            part="sheet"
            class="tb-sheet"
            aria-labelledby="tb-title"
            on:cancel=move |ev: web_sys::Event| {
                ev.prevent_default();
                close.run(());
            }
        >
            <header part="header" class="tb-header">
                <h2 id="tb-title" class="tb-title">{title}</h2>
                <button type="button" class="tb-close" aria-label="Close" on:click=move |_| close.run(())>
                    "×"
                </button>
            </header>
            {move || match step.get() {
                Step::Product => {
                    view! {
                        <ProductSheet
                            offer=offer.get_value()
                            details=details
                            on_continue=Callback::new(move |_: ()| step.set(Step::Checkout))
                        />
                    }
                        .into_any()
                }
                Step::Checkout => {
                    view! {
                        <Checkout
                            offer=offer.get_value()
                            details=details
                            on_back=Callback::new(move |_: ()| step.set(Step::Product))
                            on_paid=Callback::new(move |receipt: OrderReceipt| {
                                step.set(Step::Confirmed(Box::new(receipt)))
                            })
                        />
                    }
                        .into_any()
                }
                Step::Confirmed(receipt) => {
                    view! { <Confirmation receipt=*receipt on_done=close /> }.into_any()
                }
            }}
        </dialog>
    }
}
