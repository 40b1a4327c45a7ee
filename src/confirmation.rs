//! The order confirmation.

use crate::format;
use crate::mount::WidgetCtx;
use leptos::prelude::*;
use tweetbuy_core::OrderReceipt;

/// Where the order goes, in one line: the address for goods, the delivery note otherwise.
pub fn destination(receipt: &OrderReceipt) -> String {
    match (&receipt.shipping, &receipt.delivery) {
        (Some(a), _) => format!("Ships to {}, {}, {} {}, {}", a.name, a.line1, a.city, a.postal_code, a.country),
        (None, Some(delivery)) => delivery.clone(),
        (None, None) => "Delivered by email.".into(),
    }
}

/// The confirmation: order number, what was bought, where it goes, and the receipt.
#[component]
pub fn Confirmation(
    /// The server's receipt for the order.
    receipt: OrderReceipt,
    /// Closes the sheet.
    on_done: Callback<()>,
) -> impl IntoView {
    let ctx = expect_context::<WidgetCtx>();
    let total = format::money(&receipt.quote.total, &ctx.locale);
    view! {
        <div part="confirmation" class="tb-confirmation" role="status">
            <p class="tb-confirmed">"Thank you! Your order is confirmed."</p>
            <p class="tb-order-number">"Order number " <strong data-order-number="">{receipt.order_number.clone()}</strong></p>
            <p>{format!("{} × {} ({})", receipt.quantity, receipt.product_title, receipt.variant_label)}</p>
            <p>{format!("Paid {total} with {} •••• {}", receipt.card_brand.display_name(), receipt.card_last4)}</p>
            <p>{destination(&receipt)}</p>
            <p>{format!("A receipt was sent to {}.", receipt.email)}</p>
            <button type="button" class="tb-primary" on:click=move |_| on_done.run(())>"Done"</button>
        </div>
    }
}
