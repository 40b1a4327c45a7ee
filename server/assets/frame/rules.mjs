// The frame's input rules: which messages from the embedding page it accepts, and which theme
// values it applies. tweetbuy-core (core/src/frame.rs, core/src/theme.rs) has the same rules
// in Rust; both run the one table of accept/reject cases in core/tests/frame_vectors.json, so
// the widget and the frame cannot drift apart. Every check is linear in its input: a hostile
// value cannot make the frame spin.

export const MAX_MESSAGE = 16 * 1024;
export const MAX_VALUE = 200;

const own = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);
const hasExactKeys = (msg, keys) => Object.keys(msg).length === keys.length && keys.every((k) => own(msg, k));
// Lengths count characters (code points), as the Rust side does.
const isString = (v, max) => typeof v === "string" && [...v].length <= max;

// An id (product, variant, tweet): 1 to 100 visible ASCII characters.
export const MAX_ID = 100;
const ID = /^[\x21-\x7e]{1,100}$/;
const idOk = (id) => typeof id === "string" && ID.test(id);

// A cart's other bounds (core/src/frame.rs: MAX_QUANTITY, MAX_EMAIL, core's address rule and
// core/src/discount.rs: MAX_CODE_LEN).
export const MAX_QUANTITY = 1000;
export const MAX_EMAIL = 254;
export const MAX_CODE = 32;
export const MAX_ADDRESS_FIELD = 200;

// ---- Theme values (core/src/theme.rs) ----

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const NAMED = /^[a-z]{1,30}$/i;
// ASCII letters only, in either case: no Unicode case folding (the Kelvin sign is not a k).
const COLOUR_FUNCTION = /^(rgba?|hsla?|hwb|lab|lch|oklab|oklch)$/i;
// One argument of a colour function: a number, optionally negative, with at most one `%` or
// `deg`. No nested quantifier, so a long run of digits fails in one pass.
const COLOUR_ARG = /^-?(\d+(\.\d*)?|\.\d+)(%|deg)?$/;

export function validColour(v) {
  if (v.length === 0 || v.length > MAX_VALUE) return false;
  if (v.startsWith("#")) return HEX.test(v);
  if (/^[a-z]+$/i.test(v)) return NAMED.test(v);
  const open = v.indexOf("(");
  if (open < 0 || !v.endsWith(")")) return false;
  if (!COLOUR_FUNCTION.test(v.slice(0, open))) return false;
  return v.slice(open + 1, -1).split(/[ ,/]/).filter(Boolean)
    .every((word) => word.toLowerCase() === "none" || COLOUR_ARG.test(word));
}

// `0`, or a non-negative number of at most 10 characters and a unit.
const LENGTH = /^(\d+(\.\d+)?|\.\d+)(px|rem|em|%|vh|vw)$/;
export function validLength(v) {
  if (v === "0") return true;
  const m = LENGTH.exec(v);
  return !!m && m[1].length <= 10;
}

const FONT_CHARS = /^[A-Za-z0-9 ,\-_"']+$/;
const count = (v, ch) => v.split(ch).length - 1;
export function validFont(v) {
  return v.length > 0 && v.length <= MAX_VALUE && FONT_CHARS.test(v) && count(v, '"') % 2 === 0 && count(v, "'") % 2 === 0;
}

const WEIGHT = /^(normal|bold|[1-9][0-9]{0,2}|1000)$/;
export const validWeight = (v) => WEIGHT.test(v);
export const validScheme = (v) => v === "light" || v === "dark";

const CHECKS = { scheme: validScheme, colour: validColour, length: validLength, font: validFont, weight: validWeight };

/** Whether `value` is acceptable for a property of `kind` (scheme, colour, length, font, weight). */
export const validValue = (kind, value) => typeof value === "string" && !!CHECKS[kind] && CHECKS[kind](value);

// The themeable properties: their kind and the custom property they set.
export const THEME = {
  color_scheme: ["scheme", "color-scheme"],
  text: ["colour", "--tb-text"],
  surface: ["colour", "--tb-surface"],
  border: ["colour", "--tb-border"],
  danger: ["colour", "--tb-danger"],
  focus: ["colour", "--tb-focus"],
  radius_small: ["length", "--tb-radius-small"],
  space: ["length", "--tb-space"],
  stroke: ["length", "--tb-stroke"],
  focus_ring: ["length", "--tb-focus-ring"],
  font: ["font", "--tb-font"],
  font_size: ["length", "--tb-font-size"],
  font_size_small: ["length", "--tb-font-size-small"],
  font_weight: ["weight", "--tb-font-weight"],
  target: ["length", "--tb-button-height"],
  accent: ["colour", "--tb-accent"],
  accent_text: ["colour", "--tb-accent-text"],
  radius: ["length", "--tb-radius"],
  control: ["length", "--tb-control"],
};

export function validTheme(t) {
  return isObject(t) && Object.keys(t).every((k) => own(THEME, k) && (t[k] === null || validValue(THEME[k][0], t[k])));
}

// ---- Messages from the page (core/src/frame.rs, `ToFrame`) ----

// A shipping address: the known text fields, the required ones present.
const ADDRESS_REQUIRED = ["name", "line1", "city", "postal_code", "country"];
const ADDRESS_OPTIONAL = ["line2", "region"];
function isAddress(a) {
  return isObject(a)
    && ADDRESS_REQUIRED.every((k) => own(a, k))
    && Object.keys(a).every((k) => (ADDRESS_REQUIRED.includes(k) || ADDRESS_OPTIONAL.includes(k)) && isString(a[k], MAX_ADDRESS_FIELD));
}

// What the buyer is buying: every key present (null where there is nothing), ids, a quantity
// of 1 to 1000 and bounded text. Whether the details are valid is the api's call.
const CART_KEYS = ["product_id", "variant_id", "quantity", "tweet_id", "email", "shipping", "share_email", "discount_code"];
export function validCart(c) {
  return isObject(c) && hasExactKeys(c, CART_KEYS)
    && idOk(c.product_id) && idOk(c.variant_id)
    && (c.tweet_id === null || idOk(c.tweet_id))
    && Number.isInteger(c.quantity) && c.quantity >= 1 && c.quantity <= MAX_QUANTITY
    && (c.email === null || isString(c.email, MAX_EMAIL))
    && (c.shipping === null || isAddress(c.shipping))
    && typeof c.share_email === "boolean"
    && (c.discount_code === null || isString(c.discount_code, MAX_CODE));
}

/** One message from the page, or `null` for anything that is not exactly a v1 shape. */
export function decode(data) {
  if (typeof data !== "string" || data.length > MAX_MESSAGE) return null;
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(msg) || msg.v !== 1) return null;
  switch (msg.type) {
    case "clear":
      return hasExactKeys(msg, ["type", "v"]) ? msg : null;
    case "theme":
      return hasExactKeys(msg, ["type", "v", "tokens"]) && validTheme(msg.tokens) ? msg : null;
    case "show":
      return hasExactKeys(msg, ["type", "v", "cart"]) && (msg.cart === null || validCart(msg.cart)) ? msg : null;
    default:
      return null;
  }
}
