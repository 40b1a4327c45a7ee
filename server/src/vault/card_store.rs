//! The vault's tables: cards (encrypted), tokenization keys and charges.

use super::envelope::Sealed;
use crate::db::group::Groups;
use crate::db::Db;
use crate::db::{from_text, to_text};
use crate::error::AppError;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, FromRow};
use tweetbuy_core::vault::{CardToken, ChargeStatus, DeclineCode};
use tweetbuy_core::{CardBrand, Money};

/// Owner of one-time tokens made by the card frame (no account yet).
pub const ANONYMOUS_OWNER: &str = "anon";

/// How long a one-time token can be charged after it was made.
pub const TOKEN_TTL_SECONDS: i64 = 15 * 60;

/// A reusable card never expires by time; it lives until its buyer removes it.
pub const NEVER: i64 = 253_402_300_799; // 9999-12-31

/// The columns of a [`Sealed`] value, in `cards` and in `profiles`, in the order
/// [`bind_sealed`] binds them.
pub const SEALED_COLUMNS: &str = "key_id, wrapped_key, key_nonce, ciphertext, nonce";

/// Binds a sealed value's five columns, in [`SEALED_COLUMNS`] order.
pub fn bind_sealed<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    sealed: &'q Sealed,
) -> Query<'q, Any, AnyArguments<'q>> {
    query
        .bind(&sealed.key_id)
        .bind(&sealed.wrapped_key)
        .bind(&sealed.key_nonce)
        .bind(&sealed.ciphertext)
        .bind(&sealed.nonce)
}

/// What an erased record's sealed columns are set to (`$1` bound to empty bytes): without
/// the wrapped data key the ciphertext can never be opened again (crypto-shredding), and the
/// ciphertext goes too.
pub const ERASE_SEALED: &str = "wrapped_key = $1, key_nonce = $1, ciphertext = $1, nonce = $1";

/// [`ERASE_SEALED`] for a card row: its number's card-testing fingerprint goes with it.
pub const ERASE_CARD: &str = "wrapped_key = $1, key_nonce = $1, ciphertext = $1, nonce = $1, fingerprint = NULL";

/// After an erase: on SQLite, moves the WAL into the main file and empties it, so the erased
/// bytes (zeroed in their page by `secure_delete`) leave no older copy behind. A failure is
/// logged, not returned: the erase itself has committed, and the next one checkpoints again.
pub async fn after_erase(db: &Db) {
    match crate::db::checkpoint(db).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("the WAL could not be emptied after an erase (a reader is busy); next time"),
        Err(error) => tracing::warn!(%error, "checkpoint after an erase failed"),
    }
}

/// A new card record, before insertion.
pub struct NewCard {
    pub(crate) id: String,
    pub(crate) token: String,
    pub(crate) owner: String,
    pub(crate) sealed: Sealed,
    pub(crate) brand: CardBrand,
    pub(crate) last4: String,
    pub(crate) exp_month: u8,
    pub(crate) exp_year: u16,
    pub(crate) created_at: i64,
    /// SHA-256 of the secret that lets the buyer save this card after paying with it.
    pub(crate) save_secret_hash: Option<String>,
    /// The one payment intent a one-time token may pay (none for a saved profile's card).
    pub(crate) intent_id: Option<String>,
    /// The number's card-testing fingerprint ([`super::card_testing::fingerprint`]), kept
    /// with a one-time card so its charge checks the number's block as it claims the token.
    pub(crate) fingerprint: Option<String>,
}

/// What kind of card row to write.
pub enum CardLife {
    /// Typed for one payment: charged once, within [`TOKEN_TTL_SECONDS`], and savable
    /// with its save secret.
    OneTime,
    /// A saved profile's card: never expires, charged again on each repeat purchase.
    Reusable,
}

/// Writes a card row in the caller's transaction.
pub async fn insert_card(conn: &mut crate::db::WriteTx, card: &NewCard, life: CardLife) -> Result<(), AppError> {
    let sql = insert_card_sql();
    insert_card_query(&sql, card, life).execute(conn).await?;
    Ok(())
}

fn insert_card_sql() -> String {
    format!(
        "INSERT INTO cards (id, token, owner, {SEALED_COLUMNS}, brand, last4, \
         exp_month, exp_year, created_at, expires_at, used_at, save_secret_hash, reusable, intent_id, fingerprint) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15, $16, $17, $18)"
    )
}

/// [`insert_card`]'s statement with its binds, on [`insert_card_sql`].
fn insert_card_query<'q>(sql: &'q str, card: &'q NewCard, life: CardLife) -> Query<'q, Any, AnyArguments<'q>> {
    let (expires_at, save_secret_hash, reusable, fingerprint) = match life {
        CardLife::OneTime => {
            (card.created_at + TOKEN_TTL_SECONDS, card.save_secret_hash.as_deref(), false, card.fingerprint.as_deref())
        }
        CardLife::Reusable => (NEVER, None, true, None),
    };
    let query = sqlx::query(sql).bind(&card.id).bind(&card.token).bind(&card.owner);
    bind_sealed(query, &card.sealed)
        .bind(to_text(&card.brand))
        .bind(&card.last4)
        .bind(i64::from(card.exp_month))
        .bind(i64::from(card.exp_year))
        .bind(card.created_at)
        .bind(expires_at)
        .bind(save_secret_hash)
        .bind(reusable)
        .bind(card.intent_id.as_deref())
        .bind(fingerprint)
}

/// A stored card, as the charge path needs it.
#[derive(FromRow)]
pub struct CardRow {
    /// The card's id (`card_…`), bound into its sealed number's associated data.
    pub id: String,
    /// What the card is charged by: `tok_…` for a one-time card, `scard_…` for a saved profile's
    /// reusable card (which is only ever charged through a saved-card token).
    pub token: String,
    /// Whom the card belongs to, bound into the associated data like the id:
    /// [`ANONYMOUS_OWNER`] for a one-time card, the profile's id (`prof_…`) for a reusable one.
    pub owner: String,
    /// The encrypted number; emptied when the card is erased ([`ERASE_CARD`]).
    #[sqlx(flatten)]
    pub sealed: Sealed,
    /// The brand's wire name (`visa`, …) as stored; [`CardRow::brand()`] reads it.
    pub brand: String,
    /// The number's last four digits, kept in the clear for receipts and the card picker.
    pub last4: String,
    /// The expiry month, 1 to 12.
    pub exp_month: i64,
    /// The four-digit expiry year.
    pub exp_year: i64,
    /// When a one-time token stops being chargeable, Unix seconds (made + [`TOKEN_TTL_SECONDS`]);
    /// [`NEVER`] for a reusable card. Past it the sweeper erases the number.
    pub expires_at: i64,
    /// When a one-time token was claimed by a charge, Unix seconds; `None` while unused (or given
    /// back after a retryable error, [`release_token`]).
    pub used_at: Option<i64>,
}

impl CardRow {
    /// The card's brand, from its stored name; an unknown name is a 500 (`internal`), since
    /// only the vault writes it.
    pub fn brand(&self) -> Result<CardBrand, AppError> {
        from_text(&self.brand)
    }

    /// What the frame and the widget may see about this card.
    pub fn to_token(&self) -> Result<CardToken, AppError> {
        Ok(CardToken {
            token: self.token.clone(),
            brand: self.brand()?,
            last4: self.last4.clone(),
            exp_month: u8::try_from(self.exp_month).map_err(|_| AppError::internal("stored exp_month"))?,
            exp_year: u16::try_from(self.exp_year).map_err(|_| AppError::internal("stored exp_year"))?,
        })
    }
}

/// A [`CardRow`]'s columns, for a query that names the `cards` table `c`.
pub const CARD_COLUMNS: &str = "c.id, c.token, c.owner, c.key_id, c.wrapped_key, c.key_nonce, c.ciphertext, \
     c.nonce, c.brand, c.last4, c.exp_month, c.exp_year, c.expires_at, c.used_at";

/// Inserts a card and the idempotency key that made it, in one transaction. Returns `false`
/// (and inserts nothing) when the key was taken meanwhile by a concurrent request.
pub async fn insert_card_for_key(
    db: &Db,
    card: &NewCard,
    idem_key: &str,
    request_hash: &str,
) -> Result<bool, AppError> {
    if crate::db::engine_of(db) == crate::db::Engine::Postgres {
        return TOKENS.join(db, TokenRow::new(card, idem_key, request_hash), insert_token_rows).await;
    }
    let sql = insert_card_sql();
    // The card row goes first because the key row references it; both roll back together
    // when the key turns out to be taken.
    let mut batch = crate::db::Batch::new();
    batch.push(insert_card_query(&sql, card, CardLife::OneTime));
    batch.push_expecting_one(
        sqlx::query(
            "INSERT INTO token_requests (idem_key, request_hash, card_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (idem_key) DO NOTHING",
        )
        .bind(idem_key)
        .bind(request_hash)
        .bind(&card.id)
        .bind(card.created_at),
    );
    let (tx, ran) = crate::db::begin_write_with(db, batch).await?;
    if ran.unmet.is_none() {
        tx.commit().await?;
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

/// A one-time card with the key that made it, as [`TOKENS`] writes it on PostgreSQL: the
/// sealed columns in hex, for the JSON a batch goes in.
#[derive(serde::Serialize)]
struct TokenRow {
    id: String,
    token: String,
    owner: String,
    key_id: String,
    wrapped_key: String,
    key_nonce: String,
    ciphertext: String,
    nonce: String,
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
    created_at: i64,
    expires_at: i64,
    save_secret_hash: Option<String>,
    intent_id: Option<String>,
    fingerprint: Option<String>,
    idem_key: String,
    request_hash: String,
}

impl TokenRow {
    fn new(card: &NewCard, idem_key: &str, request_hash: &str) -> TokenRow {
        TokenRow {
            id: card.id.clone(),
            token: card.token.clone(),
            owner: card.owner.clone(),
            key_id: card.sealed.key_id.clone(),
            wrapped_key: hex::encode(&card.sealed.wrapped_key),
            key_nonce: hex::encode(&card.sealed.key_nonce),
            ciphertext: hex::encode(&card.sealed.ciphertext),
            nonce: hex::encode(&card.sealed.nonce),
            brand: to_text(&card.brand),
            last4: card.last4.clone(),
            exp_month: i64::from(card.exp_month),
            exp_year: i64::from(card.exp_year),
            created_at: card.created_at,
            expires_at: card.created_at + TOKEN_TTL_SECONDS,
            save_secret_hash: card.save_secret_hash.clone(),
            intent_id: card.intent_id.clone(),
            fingerprint: card.fingerprint.clone(),
            idem_key: idem_key.to_owned(),
            request_hash: request_hash.to_owned(),
        }
    }
}

/// One-time cards being stored on PostgreSQL, grouped ([`crate::db::group`]): one
/// transaction for all the buyers' cards that come together.
static TOKENS: Groups<TokenRow, bool> = Groups::new();

/// Stores a batch of cards, each only when its key is new, in one statement (a transaction
/// of its own: one round trip where a `BEGIN`, two inserts and a `COMMIT` took four per
/// card): the keys are inserted first and the cards whose key was new then, so a key already
/// used writes nothing. The keys' references to their cards are checked at the end of the
/// statement, when both rows are there. When the batch fails, each card alone.
async fn insert_token_rows(db: Db, rows: Vec<TokenRow>) -> Vec<Result<bool, AppError>> {
    match insert_tokens(&db, &rows).await {
        Ok(stored) => return rows.iter().map(|row| Ok(stored.contains(&row.id))).collect(),
        Err(error) if rows.len() > 1 => {
            tracing::warn!(%error, rows = rows.len(), "a batch of cards is stored one by one")
        }
        Err(error) => return vec![Err(error)],
    }
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id.clone();
        answers.push(insert_tokens(&db, &[row]).await.map(|stored| stored.contains(&id)));
    }
    answers
}

/// [`insert_token_rows`]' statement: the ids of the cards stored.
async fn insert_tokens(db: &Db, rows: &[TokenRow]) -> Result<Vec<String>, AppError> {
    const SQL: &str = "WITH typed AS (SELECT * FROM json_to_recordset($1::json) AS r(id text, token text, \
         owner text, key_id text, wrapped_key text, key_nonce text, ciphertext text, nonce text, brand text, \
         last4 text, exp_month bigint, exp_year bigint, created_at bigint, expires_at bigint, \
         save_secret_hash text, intent_id text, fingerprint text, idem_key text, request_hash text)), \
         claimed AS (INSERT INTO token_requests (idem_key, request_hash, card_id, created_at) \
         SELECT idem_key, request_hash, id, created_at FROM typed ON CONFLICT (idem_key) DO NOTHING \
         RETURNING card_id) \
         INSERT INTO cards (id, token, owner, key_id, wrapped_key, key_nonce, ciphertext, nonce, brand, last4, \
         exp_month, exp_year, created_at, expires_at, save_secret_hash, reusable, intent_id, fingerprint) \
         SELECT id, token, owner, key_id, decode(wrapped_key, 'hex'), decode(key_nonce, 'hex'), \
         decode(ciphertext, 'hex'), decode(nonce, 'hex'), brand, last4, exp_month, exp_year, created_at, \
         expires_at, save_secret_hash, FALSE, intent_id, fingerprint FROM typed \
         WHERE id IN (SELECT card_id FROM claimed) RETURNING id";
    let json = serde_json::to_string(rows).map_err(|e| AppError::internal(e.to_string()))?;
    let stored: Vec<(String,)> =
        sqlx::query_as(SQL).bind(json).fetch_all(&mut crate::db::write_conn(db).await?).await?;
    Ok(stored.into_iter().map(|(id,)| id).collect())
}

/// The earlier tokenization under `idem_key`: its request fingerprint and card.
pub async fn find_by_idempotency_key(db: &Db, idem_key: &str) -> Result<Option<(String, CardRow)>, AppError> {
    let hash: Option<(String, String)> =
        sqlx::query_as("SELECT request_hash, card_id FROM token_requests WHERE idem_key = $1")
            .bind(idem_key)
            .fetch_optional(db)
            .await?;
    let Some((hash, card_id)) = hash else { return Ok(None) };
    let card = sqlx::query_as::<_, CardRow>(&format!("SELECT {CARD_COLUMNS} FROM cards c WHERE c.id = $1"))
        .bind(&card_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::internal("token request without its card"))?;
    Ok(Some((hash, card)))
}

/// A one-time card as its token's claim read it back.
#[derive(FromRow)]
pub struct ClaimedCard {
    #[sqlx(flatten)]
    pub(crate) card: CardRow,
    /// The number's fingerprint as stored at tokenization (none for cards tokenized before
    /// it was stored).
    pub(crate) fingerprint: Option<String>,
    /// 1 when [`ClaimedCard::fingerprint`] was blocked at the claim
    /// ([`super::card_testing::is_blocked`]). An integer because a computed boolean reads
    /// back from SQLite as one.
    pub(crate) blocked: i64,
}

/// Begins the charge's write transaction with the claim of a one-time token: sets `used_at`
/// only if it was unused and not expired, in one statement, so two concurrent charges cannot
/// both win. A saved profile's reusable card is never claimed this way: it is charged only
/// through a one-time saved-card token minted for the buyer's device (`profiles`).
pub async fn begin_claiming_token(
    db: &Db,
    token: &str,
    intent_id: &str,
    now: i64,
) -> Result<(crate::db::WriteTx, Option<ClaimedCard>), AppError> {
    // The claim reads the card back in the same statement (RETURNING, SQLite 3.35 and
    // PostgreSQL), with whether its stored fingerprint is blocked (the check
    // `card_testing::is_blocked` makes, one statement fewer), and goes with the
    // transaction's `BEGIN` on SQLite.
    let sql = format!(
        "UPDATE cards SET used_at = $1 WHERE token = $2 AND used_at IS NULL AND expires_at > $1 AND reusable = FALSE \
         AND intent_id = $3 RETURNING {}, fingerprint, CAST(CASE WHEN EXISTS (SELECT 1 FROM card_blocks b \
         WHERE b.fingerprint = cards.fingerprint AND b.blocked_until > $1) THEN 1 ELSE 0 END AS BIGINT) AS blocked",
        CARD_COLUMNS.replace("c.", "")
    );
    let mut batch = crate::db::Batch::new();
    batch.push(sqlx::query(&sql).bind(now).bind(token).bind(intent_id));
    let (tx, ran) = crate::db::begin_write_with(db, batch).await?;
    let card = ran.statements.first().and_then(|claim| claim.rows.first()).map(ClaimedCard::from_row).transpose()?;
    Ok((tx, card))
}

/// One charge's claim of its one-time token, in a batch ([`claim_tokens`]).
#[derive(serde::Serialize)]
pub struct TokenClaim<'a> {
    pub(crate) token: &'a str,
    pub(crate) intent_id: &'a str,
    pub(crate) now: i64,
}

/// [`begin_claiming_token`]'s claim for several tokens at once, in `tx` (PostgreSQL): the
/// claimed cards, each with its token. A token already used, expired or minted for another
/// intent is not among them. The tokens must differ (one row is claimed once).
pub async fn claim_tokens(
    tx: &mut crate::db::WriteTx,
    claims: &[TokenClaim<'_>],
) -> Result<Vec<ClaimedCard>, AppError> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        // The cards are found by `= ANY` of an array, through the token's index (see
        // `crate::api::order_store`'s batches).
        format!(
            "UPDATE cards SET used_at = r.now FROM json_to_recordset($1::json) AS r(token text, intent_id text, now bigint) \
             WHERE cards.token = r.token AND cards.token = ANY(ARRAY(SELECT json_array_elements($1::json)->>'token')) \
             AND cards.used_at IS NULL AND cards.expires_at > r.now AND cards.reusable = FALSE \
             AND cards.intent_id = r.intent_id \
             RETURNING {}, cards.fingerprint, CAST(CASE WHEN EXISTS (SELECT 1 FROM card_blocks b \
             WHERE b.fingerprint = cards.fingerprint AND b.blocked_until > r.now) THEN 1 ELSE 0 END AS BIGINT) AS blocked",
            CARD_COLUMNS.replace("c.", "cards.")
        )
    });
    let json = serde_json::to_string(claims).map_err(|e| AppError::internal(e.to_string()))?;
    // Planned afresh each time, as the api's batches are (`crate::api::order_store`'s
    // `place_many`): a plan kept from when `cards` was small would read it whole.
    Ok(sqlx::query_as::<_, ClaimedCard>(&SQL).persistent(false).bind(json).fetch_all(&mut *tx).await?)
}

/// Records several charges in one statement, in `tx` (PostgreSQL); nothing for none.
pub async fn insert_charges(tx: &mut crate::db::WriteTx, charges: &[NewCharge<'_>]) -> Result<(), AppError> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        id: &'a str,
        card_id: &'a str,
        reference: &'a str,
        amount_minor: i64,
        currency: &'a str,
        status: String,
        decline_code: Option<&'a str>,
        created_at: i64,
    }
    if charges.is_empty() {
        return Ok(());
    }
    let rows: Vec<Row<'_>> = charges
        .iter()
        .map(|c| Row {
            id: c.id,
            card_id: c.card_id,
            reference: c.reference,
            amount_minor: c.amount.minor,
            currency: c.amount.currency.code(),
            status: to_text(&c.status),
            decline_code: c.decline_code.map(|d| d.as_str()),
            created_at: c.created_at,
        })
        .collect();
    let json = serde_json::to_string(&rows).map_err(|e| AppError::internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO charges (id, card_id, reference, amount_minor, currency, status, decline_code, created_at) \
         SELECT id, card_id, reference, amount_minor, currency, status, decline_code, created_at \
         FROM json_to_recordset($1::json) AS r(id text, card_id text, reference text, amount_minor bigint, \
         currency text, status text, decline_code text, created_at bigint)",
    )
    .bind(json)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The intent a one-time token (typed or saved) was minted for, when the token exists.
pub async fn token_intent(db: &Db, token: &str) -> Result<Option<String>, AppError> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT intent_id FROM cards WHERE token = $1 AND reusable = FALSE \
         UNION ALL SELECT intent_id FROM saved_tokens WHERE token = $1",
    )
    .bind(token)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(intent,)| intent))
}

/// Gives a claimed token back (after a retryable processing error).
pub async fn release_token(db: &mut crate::db::WriteTx, card_id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE cards SET used_at = NULL WHERE id = $1").bind(card_id).execute(&mut *db).await?;
    Ok(())
}

/// Erases a card's encrypted number once it can never be charged again (see
/// [`ERASE_SEALED`] and [`after_erase`]).
pub async fn erase_card_data(db: &Db, card_id: &str) -> Result<(), AppError> {
    let empty: Vec<u8> = Vec::new();
    let gate = crate::db::write_gate(db).await;
    sqlx::query(&format!("UPDATE cards SET {ERASE_CARD} WHERE id = $2")).bind(&empty).bind(card_id).execute(db).await?;
    drop(gate);
    after_erase(db).await;
    Ok(())
}

/// Erases the numbers of one-time tokens whose time is up: unused ones, and paid ones whose
/// window for "save my card" (the token's 15 minutes) has passed. The condition matches the
/// partial index `cards_live_one_time` term for term, so only live one-time cards are read.
pub async fn erase_expired(db: &Db, now: i64) -> Result<u64, AppError> {
    let empty: Vec<u8> = Vec::new();
    let done = sqlx::query(&format!(
        "UPDATE cards SET {ERASE_CARD} WHERE expires_at <= $2 AND reusable = FALSE AND length(ciphertext) > 0"
    ))
    .bind(&empty)
    .bind(now)
    .execute(db)
    .await?;
    if done.rows_affected() > 0 {
        after_erase(db).await;
    }
    Ok(done.rows_affected())
}

/// Forgets tokenization idempotency keys made before `before`: a retry of a tokenize request
/// comes within seconds, and an old key only points at an erased card.
pub async fn purge_token_requests(db: &Db, before: i64) -> Result<u64, AppError> {
    let done = sqlx::query("DELETE FROM token_requests WHERE created_at < $1").bind(before).execute(db).await?;
    Ok(done.rows_affected())
}

/// One charge attempt, approved or declined.
pub struct NewCharge<'a> {
    pub(crate) id: &'a str,
    pub(crate) card_id: &'a str,
    pub(crate) reference: &'a str,
    pub(crate) amount: Money,
    pub(crate) status: ChargeStatus,
    pub(crate) decline_code: Option<DeclineCode>,
    pub(crate) created_at: i64,
}

/// Records one charge attempt in the caller's transaction.
pub async fn insert_charge(db: &mut crate::db::WriteTx, charge: &NewCharge<'_>) -> Result<(), AppError> {
    insert_charge_query(charge).execute(&mut *db).await?;
    Ok(())
}

/// [`insert_charge`]'s statement, for a [`crate::db::Batch`].
pub fn insert_charge_query<'q>(charge: &NewCharge<'q>) -> Query<'q, Any, AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO charges (id, card_id, reference, amount_minor, currency, status, decline_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(charge.id)
    .bind(charge.card_id)
    .bind(charge.reference)
    .bind(charge.amount.minor)
    .bind(charge.amount.currency.code())
    .bind(to_text(&charge.status))
    .bind(charge.decline_code.map(|c| c.as_str()))
    .bind(charge.created_at)
}

/// An earlier charge that settled an order reference: approved, or declined for good.
#[derive(Debug, FromRow)]
pub struct SettledCharge {
    /// The charge's id (`ch_…`).
    pub id: String,
    /// `approved` or `declined`: a [`ChargeStatus`]'s wire name.
    pub status: String,
    /// Why it was declined, as the processor or the card-testing block said (a
    /// [`DeclineCode`]'s wire name); `None` when approved.
    pub decline_code: Option<String>,
    /// The paying card's brand's wire name (`visa`, …).
    pub brand: String,
    /// The paying card's last four digits.
    pub last4: String,
    /// What was charged (or asked for, when declined), in minor units of `currency`.
    pub amount_minor: i64,
    /// The ISO 4217 code of the charge's currency.
    pub currency: String,
    /// 1 when a saved profile's card paid (its buyer may be told why it was declined).
    /// An integer because a computed boolean reads back from SQLite as one.
    pub reusable: i64,
}

/// The charge that settled `reference` (an order id), whatever card paid it, if any: for the
/// api's sweep of orders whose outcome it never learned.
pub async fn charge_for_reference(db: &Db, reference: &str) -> Result<Option<SettledCharge>, AppError> {
    let charge = sqlx::query_as(
        "SELECT ch.id, ch.status, ch.decline_code, c.brand, c.last4, ch.amount_minor, ch.currency, \
         CAST(CASE WHEN c.reusable THEN 1 ELSE 0 END AS BIGINT) AS reusable \
         FROM charges ch JOIN cards c ON c.id = ch.card_id \
         WHERE ch.reference = $1 AND (ch.decline_code IS NULL OR ch.decline_code <> 'processing_error') \
         ORDER BY CASE WHEN ch.status = 'approved' THEN 0 ELSE 1 END, ch.created_at DESC LIMIT 1",
    )
    .bind(reference)
    .fetch_optional(db)
    .await?;
    Ok(charge)
}

/// The charge of `token` (one-time or saved-card) that already settled `reference`, if any
/// (an approved one first). A retryable decline (`processing_error`) settles nothing: its
/// token was given back for another try.
pub async fn settled_charge(db: &Db, reference: &str, token: &str) -> Result<Option<SettledCharge>, AppError> {
    let charge = sqlx::query_as(
        "SELECT ch.id, ch.status, ch.decline_code, c.brand, c.last4, ch.amount_minor, ch.currency, \
         CAST(CASE WHEN c.reusable THEN 1 ELSE 0 END AS BIGINT) AS reusable \
         FROM charges ch JOIN cards c ON c.id = ch.card_id \
         WHERE ch.reference = $1 AND (ch.decline_code IS NULL OR ch.decline_code <> 'processing_error') \
         AND (c.token = $2 OR ch.card_id IN (SELECT card_id FROM saved_tokens WHERE token = $2)) \
         ORDER BY CASE WHEN ch.status = 'approved' THEN 0 ELSE 1 END, ch.created_at DESC LIMIT 1",
    )
    .bind(reference)
    .bind(token)
    .fetch_optional(db)
    .await?;
    Ok(charge)
}

/// A refund the vault made, as its answer shows it.
#[derive(Debug, FromRow)]
pub struct RefundRow {
    pub(crate) id: String,
    pub(crate) charge_id: String,
    pub(crate) reference: String,
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
}

/// The refund made under `reference`, if any.
pub async fn refund_by_reference(db: &mut crate::db::WriteTx, reference: &str) -> Result<Option<RefundRow>, AppError> {
    let row =
        sqlx::query_as("SELECT id, charge_id, reference, amount_minor, currency FROM refunds WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&mut *db)
            .await?;
    Ok(row)
}

/// Takes the charge's row lock (PostgreSQL; SQLite's write transaction already holds the
/// file) so that refunds of one charge run one after another; `false` when there is no such
/// charge.
pub async fn lock_charge(db: &mut crate::db::WriteTx, charge_id: &str) -> Result<bool, AppError> {
    let locked = sqlx::query("UPDATE charges SET refunded_minor = refunded_minor WHERE id = $1")
        .bind(charge_id)
        .execute(&mut *db)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// Why a refund could not be taken from a charge.
#[derive(Debug, PartialEq, Eq)]
pub enum RefundRefusal {
    /// No approved charge with this id.
    NoCharge,
    /// Another currency than the charge's.
    WrongCurrency,
    /// More than what is left of the charge; how much is left.
    Exceeds {
        /// What is left of the charge to refund, in minor units of its currency.
        left_minor: i64,
    },
}

/// Adds `amount` to what was refunded of an approved charge, in one conditional UPDATE that
/// never lets the refunded sum pass the charged amount, whatever runs at the same time.
pub async fn take_refund(
    db: &mut crate::db::WriteTx,
    charge_id: &str,
    amount: Money,
) -> Result<Result<(), RefundRefusal>, AppError> {
    let taken = sqlx::query(
        "UPDATE charges SET refunded_minor = refunded_minor + $1 WHERE id = $2 AND status = 'approved' \
         AND currency = $3 AND refunded_minor + $1 <= amount_minor",
    )
    .bind(amount.minor)
    .bind(charge_id)
    .bind(amount.currency.code())
    .execute(&mut *db)
    .await?;
    if taken.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    let row: Option<(String, String, i64, i64)> =
        sqlx::query_as("SELECT status, currency, amount_minor, refunded_minor FROM charges WHERE id = $1")
            .bind(charge_id)
            .fetch_optional(&mut *db)
            .await?;
    Ok(Err(match row {
        Some((status, _, _, _)) if status != "approved" => RefundRefusal::NoCharge,
        Some((_, currency, _, _)) if currency != amount.currency.code() => RefundRefusal::WrongCurrency,
        Some((_, _, charged, refunded)) => RefundRefusal::Exceeds { left_minor: charged - refunded },
        None => RefundRefusal::NoCharge,
    }))
}

/// Records a refund in the caller's transaction.
pub async fn insert_refund(
    db: &mut crate::db::WriteTx,
    id: &str,
    charge_id: &str,
    reference: &str,
    amount: Money,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO refunds (id, charge_id, reference, amount_minor, currency, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(charge_id)
    .bind(reference)
    .bind(amount.minor)
    .bind(amount.currency.code())
    .bind(now)
    .execute(&mut *db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(id: &str) -> NewCard {
        NewCard {
            id: id.to_owned(),
            token: format!("tok_{id}"),
            owner: "anonymous".to_owned(),
            sealed: Sealed {
                key_id: "k1".to_owned(),
                wrapped_key: vec![0, 1, 2, 255],
                key_nonce: vec![7; 12],
                ciphertext: id.as_bytes().to_vec(),
                nonce: vec![9; 12],
            },
            brand: CardBrand::Visa,
            last4: "4242".to_owned(),
            exp_month: 12,
            exp_year: 2030,
            created_at: 100,
            save_secret_hash: Some(format!("save-{id}")),
            intent_id: Some(format!("pi_{id}")),
            fingerprint: None,
        }
    }

    /// On PostgreSQL a batch of cards is one statement: each card stored with its own sealed
    /// bytes under its key, and a card whose key is already used not stored at all.
    #[tokio::test]
    async fn a_batch_of_cards_is_stored_in_one_statement() {
        let Some(db) = crate::db::test_postgres_vault().await else { return };
        let first = TokenRow::new(&card("c0"), "key-0", "hash-0");
        assert_eq!(insert_tokens(&db, &[first]).await.unwrap(), vec!["c0".to_owned()]);
        let batch = vec![
            TokenRow::new(&card("c1"), "key-1", "hash-1"),
            TokenRow::new(&card("c2"), "key-0", "hash-2"),
            TokenRow::new(&card("c3"), "key-3", "hash-3"),
        ];
        let mut stored = insert_tokens(&db, &batch).await.unwrap();
        stored.sort();
        assert_eq!(stored, vec!["c1".to_owned(), "c3".to_owned()]);

        let (hash, c1) = find_by_idempotency_key(&db, "key-1").await.unwrap().unwrap();
        assert_eq!(hash, "hash-1");
        assert_eq!((c1.id.as_str(), c1.token.as_str(), c1.last4.as_str()), ("c1", "tok_c1", "4242"));
        assert_eq!(c1.sealed.wrapped_key, vec![0, 1, 2, 255]);
        assert_eq!(c1.sealed.ciphertext, b"c1".to_vec());
        assert_eq!((c1.exp_month, c1.exp_year, c1.expires_at), (12, 2030, 100 + TOKEN_TTL_SECONDS));
        assert_eq!(find_by_idempotency_key(&db, "key-0").await.unwrap().unwrap().1.id, "c0", "the key keeps its card");
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cards").fetch_one(&db).await.unwrap();
        assert_eq!(count, 3);
    }

    /// A batch of charges finds its tokens by key however large `cards` has grown since the
    /// claim's first runs: a plan kept from when the table was small reads it whole.
    #[tokio::test]
    async fn a_batch_of_charges_finds_its_cards_by_token_however_large_the_table_has_grown() {
        let Some(db) = crate::db::test_postgres_vault().await else { return };
        let grown = |prefix: &str, count: u32| {
            format!(
                "INSERT INTO cards (id, token, owner, key_id, wrapped_key, key_nonce, ciphertext, nonce, brand, \
                 last4, exp_month, exp_year, created_at, expires_at, intent_id) \
                 SELECT '{prefix}' || n, 'tok_{prefix}' || n, 'anonymous', 'k1', '\\x00', '\\x00', '\\x00', \
                 '\\x00', 'visa', '4242', 12, 2030, 100, 10000, 'pi_{prefix}' || n \
                 FROM generate_series(1, {count}) AS n"
            )
        };
        crate::db::without_autovacuum(&db, &["cards"]).await;
        sqlx::query(&grown("early", 300)).execute(&db).await.unwrap();
        let claim = |token, intent_id| TokenClaim { token, intent_id, now: 150 };
        // PostgreSQL may keep a statement's generic plan from its sixth run on.
        for n in 1..=8 {
            let (token, intent_id) = (format!("tok_early{n}"), format!("pi_early{n}"));
            let mut tx = crate::db::begin_write(&db).await.unwrap();
            let one = TokenClaim { token: &token, intent_id: &intent_id, now: 150 };
            assert_eq!(claim_tokens(&mut tx, &[one]).await.unwrap().len(), 1);
            tx.commit().await.unwrap();
        }
        sqlx::query(&grown("late", 20_000)).execute(&db).await.unwrap();
        let before = crate::db::whole_reads(&db, &["cards"]).await;
        let mut tx = crate::db::begin_write(&db).await.unwrap();
        let batch = [claim("tok_late1", "pi_late1"), claim("tok_late2", "pi_late2")];
        assert_eq!(claim_tokens(&mut tx, &batch).await.unwrap().len(), 2);
        tx.commit().await.unwrap();
        assert_eq!(crate::db::whole_reads(&db, &["cards"]).await, before, "the claim read the cards whole");
    }

    /// On PostgreSQL a batch of charges claims its tokens in one statement and records its
    /// charges in another: only a token that is unused, unexpired and minted for the
    /// charge's intent is claimed, with whether its stored fingerprint is blocked.
    #[tokio::test]
    async fn a_batch_of_charges_claims_and_records_in_two_statements() {
        let Some(db) = crate::db::test_postgres_vault().await else { return };
        let mut blocked_card = card("c4");
        blocked_card.fingerprint = Some("fp4".to_owned());
        let rows: Vec<TokenRow> = [card("c1"), card("c2"), card("c3"), blocked_card]
            .iter()
            .enumerate()
            .map(|(i, c)| TokenRow::new(c, &format!("key-{i}"), "hash"))
            .collect();
        assert_eq!(insert_tokens(&db, &rows).await.unwrap().len(), 4);
        sqlx::query("INSERT INTO card_blocks (fingerprint, blocked_until) VALUES ('fp4', 1000)")
            .execute(&db)
            .await
            .unwrap();
        let claim = |token, intent_id| TokenClaim { token, intent_id, now: 150 };

        let mut tx = crate::db::begin_write(&db).await.unwrap();
        assert_eq!(claim_tokens(&mut tx, &[claim("tok_c3", "pi_c3")]).await.unwrap().len(), 1);
        tx.commit().await.unwrap();

        let mut tx = crate::db::begin_write(&db).await.unwrap();
        let batch = [
            claim("tok_c1", "pi_c1"),
            claim("tok_c2", "pi_other"),
            claim("tok_c3", "pi_c3"),
            claim("tok_missing", "pi_c1"),
            claim("tok_c4", "pi_c4"),
        ];
        let mut claimed = claim_tokens(&mut tx, &batch).await.unwrap();
        claimed.sort_by(|a, b| a.card.id.cmp(&b.card.id));
        let seen: Vec<(&str, i64)> = claimed.iter().map(|c| (c.card.token.as_str(), c.blocked)).collect();
        assert_eq!(
            seen,
            vec![("tok_c1", 0), ("tok_c4", 1)],
            "another intent's, a used and an unknown token are not claimed"
        );
        assert_eq!(claimed[0].card.used_at, Some(150));
        assert_eq!(claimed[1].fingerprint.as_deref(), Some("fp4"));

        let usd = tweetbuy_core::Currency::parse("USD").unwrap();
        let charge = |id, card_id, status, decline_code| NewCharge {
            id,
            card_id,
            reference: "ord_1",
            amount: Money::new(2500, usd),
            status,
            decline_code,
            created_at: 150,
        };
        let charges = [
            charge("ch_1", "c1", ChargeStatus::Approved, None),
            charge("ch_4", "c4", ChargeStatus::Declined, Some(DeclineCode::CardDeclined)),
        ];
        insert_charges(&mut tx, &charges).await.unwrap();
        insert_charges(&mut tx, &[]).await.unwrap();
        tx.commit().await.unwrap();

        // id, card, amount, currency, status, decline code, time.
        type ChargeRow = (String, String, i64, String, String, Option<String>, i64);
        let stored: Vec<ChargeRow> = sqlx::query_as(
            "SELECT id, card_id, amount_minor, currency, status, decline_code, created_at FROM charges ORDER BY id",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let approved = ("ch_1".into(), "c1".into(), 2500, "USD".into(), "approved".into(), None, 150);
        let declined =
            ("ch_4".into(), "c4".into(), 2500, "USD".into(), "declined".into(), Some("card_declined".into()), 150);
        assert_eq!(stored, vec![approved, declined]);
        let (unused,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM cards WHERE used_at IS NULL").fetch_one(&db).await.unwrap();
        assert_eq!(unused, 1, "only the token of another intent is left unclaimed");
    }
}
