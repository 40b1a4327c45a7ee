//! The message catalog: every sentence the widget shows, in English and Spanish, and the
//! choice of locale for one embed.
//!
//! The locale is, in order: the embed's `data-lang`, the script tag's `data-locale`, the
//! page's `lang`, the browser's language (the last three are merged by
//! [`crate::button::config::WidgetConfig`] into `WidgetCtx::locale`). The language picks the
//! catalog; the full tag goes to `Intl` for money, numbers and dates.

use crate::prelude::*;
use tweetbuy_core::catalog::{Availability, SellerKind};
use tweetbuy_core::{DiscountRefusal, FieldError};

/// The catalogs we have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    /// The catalog for a BCP 47 tag: `es`, `es-MX`, `ES_es` are Spanish; anything else
    /// English.
    pub fn for_tag(tag: &str) -> Lang {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }
}

macro_rules! catalog {
    ($($key:ident => $en:literal, $es:literal;)*) => {
        /// One message of the catalog.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Key { $($key),* }

        impl Key {
            /// Every key, for the completeness tests.
            pub const ALL: &'static [Key] = &[$(Key::$key),*];

            /// The template in one language; `{name}` marks a value filled in by [`Locale::fill`].
            pub fn text(self, lang: Lang) -> &'static str {
                match lang {
                    Lang::En => match self { $(Key::$key => $en),* },
                    Lang::Es => match self { $(Key::$key => $es),* },
                }
            }
        }
    };
}

// The button module's keys come first: a key chosen at run time compiles to a table of every
// text up to the highest such key, so a button key placed after the sheets' texts would put
// those texts into every page view's bytes.
catalog! {
    Buy => "Buy", "Comprar";
    ButtonSoldOut => "Sold out · Notify me", "Agotado · Avísame";
    ButtonSaleEnded => "Sale ended", "Venta terminada";
    ButtonComingSoon => "Coming soon · Notify me", "Próximamente · Avísame";
    ButtonComingSoonShort => "Coming soon", "Próximamente";
    BuyPrice => "Buy · {price}", "Comprar · {price}";
    GetTickets => "Get tickets", "Comprar entradas";
    CheckoutLoading => "Loading checkout…", "Cargando el pago…";
    CheckoutUnavailable => "Checkout could not load. Check your connection and try again.", "No se ha podido cargar el pago. Comprueba tu conexión y vuelve a intentarlo.";
    Close => "Close", "Cerrar";
    VariantSoldOut => "Sold out", "Agotado";
    SoldBy => "Sold by {seller}", "Vendido por {seller}";
    Nonprofit => "Nonprofit", "Sin ánimo de lucro";
    Brand => "Brand", "Marca";
    Artist => "Artist", "Artista";
    LimitedEdition => "Limited edition", "Edición limitada";
    Images => "Product images", "Imágenes del producto";
    ImageN => "Image {n} of {total}", "Imagen {n} de {total}";
    NLeft => "{n} left", "Quedan {n}";
    NLeftVariant => "{n} left", "quedan {n}";
    InStock => "In stock", "Disponible";
    ReasonSoldOut => "Sold out. Every unit has been sold, so buying is closed.", "Agotado. Se han vendido todas las unidades y ya no se puede comprar.";
    ReasonSaleEnded => "This sale has ended, so buying is closed.", "Esta venta ha terminado y ya no se puede comprar.";
    ReasonNotStarted => "This sale has not started yet.", "Esta venta aún no ha empezado.";
    ReasonVariantSoldOut => "This option is sold out. Choose another.", "Esta opción está agotada. Elige otra.";
    SaleEndsIn => "Sale ends in {time}", "La venta termina en {time}";
    SaleEndsAt => "Ends {date}", "Termina el {date}";
    Countdown => "{d}d {h}h {m}m {s}s", "{d} d {h} h {m} min {s} s";
    DeliveredByEmail => "Delivered by email.", "Se entrega por correo electrónico.";
    NoShipping => "No shipping address needed.", "No necesitas dirección de envío.";
    OptionLegend => "Option", "Opción";
    TicketLegend => "Ticket", "Entrada";
    Quantity => "Quantity", "Cantidad";
    QuantityLimit => "Up to {max} per order", "Hasta {max} por pedido";
    QuantityLeft => "Only {max} left", "Solo quedan {max}";
    QuantityCut => "Changed to {max}, the most you can buy", "Cambiado a {max}, lo máximo que puedes comprar";
    Decrease => "Decrease quantity", "Reducir cantidad";
    Increase => "Increase quantity", "Aumentar cantidad";
    Continue => "Continue", "Continuar";
    Email => "Email", "Correo electrónico";
    FullName => "Full name", "Nombre completo";
    Address => "Address", "Dirección";
    Address2 => "Apartment, suite (optional)", "Piso, puerta (opcional)";
    City => "City", "Ciudad";
    Region => "State / region (optional)", "Provincia / región (opcional)";
    State => "State", "Estado";
    Choose => "Choose…", "Elige…";
    PostalCode => "Postal code", "Código postal";
    Country => "Country", "País";
    ShippingAddress => "Shipping address", "Dirección de envío";
    Card => "Card", "Tarjeta";
    CardDetails => "Card details", "Datos de la tarjeta";
    ShareEmail => "Share my email with {seller}", "Compartir mi correo con {seller}";
    CardNeverShared => "Your card is never shared with the seller.", "Tu tarjeta nunca se comparte con el vendedor.";
    OrderSummary => "Order summary", "Resumen del pedido";
    Subtotal => "Subtotal", "Subtotal";
    Shipping => "Shipping", "Envío";
    Tax => "Tax", "Impuestos";
    Total => "Total", "Total";
    Calculating => "Calculating total…", "Calculando el total…";
    HaveCode => "Have a code?", "¿Tienes un código?";
    DiscountCode => "Discount code", "Código de descuento";
    ApplyCode => "Apply", "Aplicar";
    CheckingCode => "Checking the code…", "Comprobando el código…";
    CodeApplied => "{code} applied", "{code} aplicado";
    RemoveCode => "Remove code {code}", "Quitar el código {code}";
    Discount => "Discount ({code})", "Descuento ({code})";
    ErrDiscountUnknown => "This code is not valid.", "Este código no es válido.";
    ErrDiscountNotStarted => "This code cannot be used yet.", "Este código aún no se puede usar.";
    ErrDiscountExpired => "This code has expired.", "Este código ha caducado.";
    ErrDiscountUsedUp => "This code has been used up.", "Este código se ha agotado.";
    ErrDiscountAlreadyUsed => "You have already used this code.", "Ya has usado este código.";
    ErrDiscountNotApplicable => "This code is not for this item.", "Este código no es para este artículo.";
    Back => "Back", "Atrás";
    Paying => "Paying…", "Pagando…";
    FixFields => "Some details need fixing:", "Hay datos que corregir:";
    Confirmed => "Thank you! Your order is confirmed.", "¡Gracias! Tu pedido está confirmado.";
    OrderNumber => "Order number", "Número de pedido";
    PaidWith => "Paid {total} with {brand} •••• {last4}", "Pagado {total} con {brand} •••• {last4}";
    ShipsTo => "Ships to {address}", "Se envía a {address}";
    ReceiptSent => "A receipt was sent to {email}.", "Hemos enviado un recibo a {email}.";
    ReceiptSentSaved => "We emailed your receipt.", "Te hemos enviado el recibo por correo.";
    ShipsToSaved => "Ships to your saved address.", "Se envía a tu dirección guardada.";
    Done => "Done", "Hecho";
    NetworkError => "We could not reach the store. Check your connection and try again; you will not be charged twice.", "No hemos podido conectar con la tienda. Revisa tu conexión e inténtalo de nuevo; no se te cobrará dos veces.";
    TotalUnreachable => "We could not reach the store to work out the total. Check your connection.", "No hemos podido conectar con la tienda para calcular el total. Revisa tu conexión.";
    FrameUnavailable => "The card form could not load. Check your connection: it will try again by itself.", "No se ha podido cargar el formulario de la tarjeta. Revisa tu conexión: volverá a intentarlo solo.";
    SoldOutMeanwhile => "Sorry, this just sold out. You have not been charged.", "Lo sentimos, se acaba de agotar. No se te ha cobrado nada.";
    FewerLeftMeanwhile => "Sorry, fewer are left now than you chose. You have not been charged: go back to choose how many.", "Lo sentimos, ahora quedan menos de los que elegiste. No se te ha cobrado nada: vuelve atrás para elegir cuántos.";
    SaleEndedMeanwhile => "Sorry, this sale has ended. You have not been charged.", "Lo sentimos, esta venta ha terminado. No se te ha cobrado nada.";
    RateLimited => "Too many tries in a short time. Wait a moment and try again.", "Demasiados intentos seguidos. Espera un momento e inténtalo de nuevo.";
    SomethingWrong => "Something went wrong. Please try again.", "Algo ha fallado. Inténtalo de nuevo.";
    Unreadable => "The store sent an answer we could not read. Please try again.", "La tienda ha enviado una respuesta que no entendemos. Inténtalo de nuevo.";
    ErrRequired => "This field is required.", "Este campo es obligatorio.";
    ErrEmailRequired => "Enter your email address.", "Escribe tu correo electrónico.";
    ErrEmailInvalid => "Enter an email address like name@example.com.", "Escribe un correo como nombre@ejemplo.com.";
    ErrPostalRequired => "Enter a postal code.", "Escribe el código postal.";
    ErrPostalInvalid => "This is not a valid postal code for {country}.", "Este código postal no es válido en {country}.";
    ErrCountry => "Choose a country.", "Elige un país.";
    ErrCountryNotShipped => "This item does not ship to {country}.", "Este artículo no se envía a {country}.";
    ErrState => "Choose a state.", "Elige un estado.";
    ErrCharacters => "Remove the special characters from this field.", "Quita los caracteres especiales de este campo.";
    ErrTooLong => "This is too long.", "Es demasiado largo.";
    ErrVariant => "Choose an option.", "Elige una opción.";
    ErrQuantity => "Choose a quantity from 1 to {max}.", "Elige una cantidad entre 1 y {max}.";
    NotifyBack => "Email me when it's back", "Avísame cuando vuelva";
    NotifySale => "Email me when it goes on sale", "Avísame cuando salga a la venta";
    NotifyConsent => "Email me about this item, once. I can unsubscribe any time.", "Enviadme un correo sobre este artículo, una vez. Puedo darme de baja cuando quiera.";
    NotifyMe => "Notify me", "Avisarme";
    NotifyJoinedBack => "Done. We will email {email} when it's back.", "Hecho. Escribiremos a {email} cuando vuelva.";
    NotifyJoinedSale => "Done. We will email {email} when it goes on sale.", "Hecho. Escribiremos a {email} cuando salga a la venta.";
    ErrConsent => "Tick the box to be emailed about this item.", "Marca la casilla para recibir el aviso.";
    SavedTitle => "Your saved info", "Tus datos guardados";
    UseOther => "Use another card or address", "Usar otra tarjeta o dirección";
    SavedRemoved => "Your saved info was removed from this device and from our records.", "Hemos eliminado tus datos guardados de este dispositivo y de nuestros registros.";
}

/// The locale of one embed: the tag for `Intl` and the catalog's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale {
    pub tag: String,
    pub lang: Lang,
}

impl Default for Locale {
    fn default() -> Self {
        Locale::new("en")
    }
}

/// The part of a page's language tag that `Intl` is sure to accept: the language (two or
/// three letters), with its script (four letters) and region (two letters or three digits)
/// where given; underscores become hyphens (`es_ES` → `es-ES`) and anything after the region
/// is dropped (`de-DE-u-co-phonebk` → `de-DE`). A malformed tag would make `Intl` throw, and
/// a page's typo must not stop its buttons. `None` when not even the language is usable.
pub(crate) fn clean_tag(raw: &str) -> Option<String> {
    let tag = raw.trim().replace('_', "-");
    let mut clean = String::new();
    // 0: the language is next; 1: a script or a region may follow; 2: only a region; 3: done.
    let mut stage = 0;
    for part in tag.split('-') {
        let (n, alpha) = (part.len(), part.bytes().all(|b| b.is_ascii_alphabetic()));
        stage = match stage {
            0 if alpha && (n == 2 || n == 3) => 1,
            0 => return None,
            1 if alpha && n == 4 => 2,
            1 | 2 if (alpha && n == 2) || (n == 3 && part.bytes().all(|b| b.is_ascii_digit())) => 3,
            _ => break,
        };
        if !clean.is_empty() {
            clean.push('-');
        }
        clean.push_str(part);
    }
    Some(clean)
}

impl Locale {
    pub fn new(tag: &str) -> Locale {
        let tag = clean_tag(tag).unwrap_or_else(|| "en".into());
        Locale { lang: Lang::for_tag(&tag), tag }
    }

    /// The first usable tag among the candidates, most specific first: the embed's
    /// `data-lang`, the script's `data-locale`, the page's `lang`, the browser's language.
    pub fn pick<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> Locale {
        candidates.into_iter().flatten().find_map(clean_tag).map(|t| Locale::new(&t)).unwrap_or_default()
    }

    /// A message without values.
    pub fn t(&self, key: Key) -> String {
        key.text(self.lang).to_owned()
    }

    /// A message with its `{name}` values filled in.
    pub fn fill(&self, key: Key, values: &[(&str, &str)]) -> String {
        fill(key.text(self.lang), values)
    }

    /// The badge for a seller's kind.
    pub fn seller_kind(&self, kind: SellerKind) -> String {
        self.t(match kind {
            SellerKind::Nonprofit => Key::Nonprofit,
            SellerKind::Brand => Key::Brand,
            SellerKind::Artist => Key::Artist,
        })
    }

    /// Why buying is not possible right now; `None` when it is.
    pub fn unavailable(&self, availability: Availability) -> Option<String> {
        match availability {
            Availability::Available => None,
            Availability::SoldOut => Some(self.t(Key::ReasonSoldOut)),
            Availability::SaleEnded => Some(self.t(Key::ReasonSaleEnded)),
            Availability::NotStarted => Some(self.t(Key::ReasonNotStarted)),
        }
    }

    /// A field error in this language, chosen by its stable code; the server's English
    /// message only for a code this build does not know. `country_name` names the country
    /// in messages about it.
    pub fn field_error(&self, error: &FieldError, country_name: &str, max_quantity: u32) -> String {
        let key = match (error.field.as_str(), error.code.as_str()) {
            ("email", "required") => Key::ErrEmailRequired,
            ("email", "email_invalid") => Key::ErrEmailInvalid,
            ("postal_code", "required") => Key::ErrPostalRequired,
            ("postal_code", "postal_code_invalid") => {
                return self.fill(Key::ErrPostalInvalid, &[("country", country_name)])
            }
            ("country", "country_not_shipped") => {
                return self.fill(Key::ErrCountryNotShipped, &[("country", country_name)])
            }
            ("country", _) => Key::ErrCountry,
            ("region", "required" | "region_invalid") => Key::ErrState,
            ("variant", _) => Key::ErrVariant,
            ("consent", _) => Key::ErrConsent,
            ("quantity", _) => return self.fill(Key::ErrQuantity, &[("max", &max_quantity.to_string())]),
            (tweetbuy_core::discount::FIELD, code) => match DiscountRefusal::from_code(code) {
                Some(refusal) => discount_refusal(refusal),
                None => return error.message.clone(),
            },
            (_, "required") => Key::ErrRequired,
            (_, "invalid_characters") => Key::ErrCharacters,
            (_, "too_long") => Key::ErrTooLong,
            _ => return error.message.clone(),
        };
        self.t(key)
    }
}

/// The message for a refused discount code.
fn discount_refusal(refusal: DiscountRefusal) -> Key {
    match refusal {
        DiscountRefusal::Unknown => Key::ErrDiscountUnknown,
        DiscountRefusal::NotStarted => Key::ErrDiscountNotStarted,
        DiscountRefusal::Expired => Key::ErrDiscountExpired,
        DiscountRefusal::UsedUp => Key::ErrDiscountUsedUp,
        DiscountRefusal::AlreadyUsed => Key::ErrDiscountAlreadyUsed,
        DiscountRefusal::NotApplicable => Key::ErrDiscountNotApplicable,
    }
}

/// The sheet's locale, as a `Copy` handle every closure of a view can keep.
#[cfg(feature = "checkout")]
#[derive(Clone, Copy)]
pub struct SheetLocale(leptos::prelude::StoredValue<Locale>);

#[cfg(feature = "checkout")]
impl SheetLocale {
    /// The handle for one sheet's locale, owned by the reactive owner it is made in.
    pub fn new(locale: Locale) -> SheetLocale {
        SheetLocale(leptos::prelude::StoredValue::new(locale))
    }

    /// One message.
    pub fn t(self, key: Key) -> String {
        self.with(|locale| locale.t(key))
    }

    /// One message with its `{name}` placeholders filled.
    pub fn fill(self, key: Key, values: &[(&str, &str)]) -> String {
        self.with(|locale| locale.fill(key, values))
    }

    /// The BCP 47 tag, for `Intl`.
    pub fn tag(self) -> String {
        self.with(|locale| locale.tag.clone())
    }

    /// A copy of the locale itself.
    pub fn get(self) -> Locale {
        self.with(Locale::clone)
    }

    /// Runs `f` with the locale itself.
    pub fn with<T>(self, f: impl FnOnce(&Locale) -> T) -> T {
        use leptos::prelude::WithValue;
        self.0.with_value(f)
    }
}

/// The locale of the sheet being built: the one its host provides for all its steps, else
/// a `RwSignal<Locale>` in context (a view mounted on its own), else English.
#[cfg(feature = "checkout")]
pub(crate) fn use_locale() -> SheetLocale {
    use leptos::prelude::{use_context, GetUntracked, RwSignal};
    use_context::<SheetLocale>().unwrap_or_else(|| {
        SheetLocale::new(use_context::<RwSignal<Locale>>().map(|l| l.get_untracked()).unwrap_or_default())
    })
}

/// Replaces each `{name}` in `template` with its value, in one pass (a value is never read
/// as a template itself); a placeholder without a value stays as it is. Scans for chars,
/// not strings: a substring search is 2 KB of code in the button module; and splits rather
/// than slices, which brings no check of char boundaries (and its panic) into the module.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, inside)) = rest.split_once('{') {
        out.push_str(before);
        let value = inside.split_once('}').and_then(|(name, after)| {
            let (_, value) = values.iter().find(|(known, _)| *known == name)?;
            Some((after, value))
        });
        match value {
            Some((after, value)) => {
                out.push_str(value);
                rest = after;
            }
            None => {
                out.push('{');
                rest = inside;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a template, sorted.
#[cfg(test)]
fn placeholders(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> =
        template.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages_with_the_same_values() {
        for key in Key::ALL {
            let (en, es) = (key.text(Lang::En), key.text(Lang::Es));
            assert!(!en.trim().is_empty() && !es.trim().is_empty(), "{key:?} is empty");
            assert_eq!(placeholders(en), placeholders(es), "{key:?} placeholders differ");
        }
        let translated = Key::ALL.iter().filter(|k| k.text(Lang::En) != k.text(Lang::Es)).count();
        assert!(translated * 10 >= Key::ALL.len() * 9, "most messages are translated: {translated}/{}", Key::ALL.len());
    }

    #[test]
    fn locale_order_embed_then_script_then_page_then_browser() {
        assert_eq!(Locale::pick([Some("es"), Some("en-GB"), Some("fr"), Some("de")]).tag, "es");
        assert_eq!(Locale::pick([None, Some("en-GB"), Some("fr"), Some("de")]).tag, "en-GB");
        assert_eq!(Locale::pick([Some(""), Some("  "), Some("es-MX"), Some("de")]).tag, "es-MX");
        assert_eq!(Locale::pick([None, None, None, Some("es_AR")]).tag, "es-AR");
        assert_eq!(Locale::pick([Some("not a tag!"), None, None, Some("fr-CA")]).tag, "fr-CA");
        assert_eq!(Locale::pick([None, None]).tag, "en");
        assert_eq!(Locale::pick([Some("es-MX")]).lang, Lang::Es);
        assert_eq!(Locale::pick([Some("fr")]).lang, Lang::En, "no French catalog: English");
    }

    #[test]
    fn fills_values_and_reads_tags() {
        let es = Locale::new("es");
        assert_eq!(es.fill(Key::BuyPrice, &[("price", "45,00 €")]), "Comprar · 45,00 €");
        assert_eq!(Locale::new("en-US").fill(Key::NLeft, &[("n", "3")]), "3 left");
        assert_eq!(es.fill(Key::NLeft, &[("n", "3")]), "Quedan 3");
        assert_eq!(placeholders("Pay {total} {a}"), ["a", "total"]);
        assert_eq!(fill("{a} and {b}, {a}", &[("a", "1"), ("b", "{a}")]), "1 and {a}, 1", "one pass");
        assert_eq!(fill("{x} {a} {a", &[("a", "1")]), "{x} 1 {a", "unknown and unclosed placeholders stay");
        assert_eq!(fill("€{a}ñ{}", &[("a", "ü"), ("", "?")]), "€üñ?", "characters of several bytes");
        assert_eq!(fill("{unknown} {", &[("a", "1")]), "{unknown} {", "left as it is");
        assert_eq!(clean_tag("x"), None);
        assert_eq!(clean_tag(" es_ES ").as_deref(), Some("es-ES"));
        assert_eq!(clean_tag("zh-Hant-TW").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(clean_tag("es-419").as_deref(), Some("es-419"));
        assert_eq!(clean_tag("de-DE-u-co-phonebk").as_deref(), Some("de-DE"), "extensions dropped");
        assert_eq!(clean_tag("en-x-private").as_deref(), Some("en"));
        assert_eq!(clean_tag("en-abcdefghijk").as_deref(), Some("en"), "a subtag Intl refuses is dropped");
        assert_eq!(clean_tag("es-").as_deref(), Some("es"));
        assert_eq!(clean_tag("english"), None);
        assert_eq!(clean_tag("123"), None);
        assert_eq!(Lang::for_tag("ES-es"), Lang::Es);
    }

    #[test]
    fn field_errors_are_localized_by_code() {
        let es = Locale::new("es");
        let postal =
            FieldError::new("postal_code", "postal_code_invalid", "This is not a valid postal code for United States.");
        assert_eq!(es.field_error(&postal, "Estados Unidos", 5), "Este código postal no es válido en Estados Unidos.");
        let email = FieldError::new("email", "required", "Enter your email address.");
        assert_eq!(es.field_error(&email, "", 5), "Escribe tu correo electrónico.");
        let quantity = FieldError::new("quantity", "quantity_invalid", "x");
        assert_eq!(Locale::new("en").field_error(&quantity, "", 4), "Choose a quantity from 1 to 4.");
        let unknown = FieldError::new("email", "brand_new_rule", "Server words.");
        assert_eq!(es.field_error(&unknown, "", 5), "Server words.", "unknown codes keep the server's message");
        assert_eq!(
            es.unavailable(Availability::SaleEnded).unwrap(),
            "Esta venta ha terminado y ya no se puede comprar."
        );
        assert_eq!(es.seller_kind(SellerKind::Artist), "Artista");
        let used_up = DiscountRefusal::UsedUp.field_error();
        assert_eq!(es.field_error(&used_up, "", 5), "Este código se ha agotado.");
        for refusal in DiscountRefusal::ALL {
            let en = Locale::new("en").field_error(&refusal.field_error(), "", 5);
            assert_eq!(en, refusal.message(), "the English catalog says what the server says");
        }
    }
}
