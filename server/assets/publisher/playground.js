// The theme playground: a control for every --tweetbuy-* token, presets, live previews of
// the real widget, a phone-width frame of this same page, a "Copy CSS" box, and a WCAG AA
// warning for the accent pair. Loaded as a classic script before the widget's module, so
// the embeds carry their theme, button style and label before the widget scans them.
"use strict";
(() => {
  // name, kind, light default, dark default (when the dark theme changes it). Keep in step
  // with style/tokens.css (tests/e2e/visual.test.mjs compares the two).
  const TOKENS = [
    ["accent", "colour", "#1d4ed8"],
    ["accent-text", "colour", "#ffffff"],
    ["accent-outline", "colour", "#1d4ed8", "#8ab4ff"],
    ["surface", "colour", "#ffffff", "#15202b"],
    ["surface-raised", "colour", "#f7f9f9", "#1e2a36"],
    ["text", "colour", "#0f1419", "#f7f9f9"],
    ["muted", "colour", "#536471", "#b1bcc6"],
    ["border", "colour", "#858f99", "#8b98a5"],
    ["danger", "colour", "#b42318", "#ff9b94"],
    ["success", "colour", "#067647", "#6ee7a8"],
    ["focus", "colour", "#1d4ed8", "#8ab4ff"],
    ["backdrop", "other", "rgb(15 20 25 / 0.5)", "rgb(0 0 0 / 0.7)"],
    ["radius", "length", "12px"],
    ["radius-small", "length", "8px"],
    ["font", "font", "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif"],
    ["font-size", "length", "16px"],
    ["font-size-small", "length", "14px"],
    ["font-size-title", "length", "20px"],
    ["font-weight", "other", "600"],
    ["font-weight-bold", "other", "700"],
    ["line-height", "other", "1.4"],
    ["line-height-tight", "other", "1.2"],
    ["space", "length", "8px"],
    ["shadow", "other", "0 8px 32px rgb(15 20 25 / 0.25)", "0 8px 32px rgb(0 0 0 / 0.5)"],
    ["shadow-float", "other", "0 2px 8px rgb(15 20 25 / 0.3)", "0 2px 8px rgb(0 0 0 / 0.5)"],
    ["button-height", "length", "44px"],
    ["button-height-compact", "length", "32px"],
    ["sheet-width", "length", "440px"],
    ["sheet-max-height", "length", "92vh"],
    ["image-height", "length", "240px"],
    ["image-height-phone", "length", "160px"],
    ["card-frame-height", "length", "168px"],
    ["motion", "other", "160ms"],
    ["motion-distance", "length", "8px"],
    ["hover", "other", "brightness(1.1)"],
    ["disabled-opacity", "other", "0.5"],
    ["focus-ring", "length", "3px"],
    ["focus-offset", "length", "2px"],
    ["target", "length", "44px"],
    ["control", "length", "24px"],
    ["stroke", "length", "1px"],
  ];
  window.TWEETBUY_PLAYGROUND_TOKENS = TOKENS;

  const PRESETS = {
    light: { theme: "light", tokens: {} },
    dark: { theme: "dark", tokens: {} },
    custom: {
      theme: "light",
      tokens: {
        accent: "#7c3aed",
        "accent-text": "#ffffff",
        surface: "#fffdf7",
        "surface-raised": "#f3efe4",
        text: "#1c1917",
        border: "#a8a29e",
        radius: "2px",
        "radius-small": "2px",
        font: "Georgia, \"Times New Roman\", serif",
      },
    },
  };

  const KEY = "tweetbuy.playground";
  const params = new URLSearchParams(location.search);
  const phone = params.get("frame") === "phone";
  if (phone) document.documentElement.classList.add("pg-phone-mode");

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) || "null");
      if (saved && typeof saved === "object") return saved;
    } catch {
      // storage blocked or malformed: start from the light preset
    }
    return { theme: "auto", style: "filled", label: "", tokens: {} };
  }
  function save(state) {
    try {
      localStorage.setItem(KEY, JSON.stringify(state));
    } catch {
      // storage blocked: the playground still works for this page
    }
  }

  let state = load();
  // ?preset=light|dark|custom (the visual tests and links from the docs) starts from a preset.
  const preset = PRESETS[params.get("preset")];
  if (preset && !phone) {
    state = { theme: preset.theme, style: params.get("style") || "filled", label: "", tokens: { ...preset.tokens } };
    save(state);
  }

  const preview = document.getElementById("pg-preview");
  const embeds = () => preview.querySelectorAll("blockquote.twitter-tweet");

  // Theme, style and label are read by the widget when it mounts: set them now, before it
  // scans; changing them reloads the page (and the phone frame).
  for (const embed of embeds()) {
    embed.dataset.theme = state.theme;
    embed.dataset.buttonStyle = state.style;
    if (state.label) embed.dataset.label = state.label;
  }
  const darkPreview = () =>
    state.theme === "dark" || (state.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
  preview.classList.toggle("pg-dark", darkPreview());

  function applyTokens() {
    for (const [name] of TOKENS) preview.style.removeProperty(`--tweetbuy-${name}`);
    for (const [name, value] of Object.entries(state.tokens)) {
      if (value) preview.style.setProperty(`--tweetbuy-${name}`, value);
    }
  }
  applyTokens();

  // The phone frame follows the controls through storage events.
  window.addEventListener("storage", (e) => {
    if (e.key !== KEY) return;
    const next = load();
    const reload = next.theme !== state.theme || next.style !== state.style || next.label !== state.label;
    state = next;
    if (reload) location.reload();
    else applyTokens();
  });
  if (phone) return;

  // --- WCAG AA for the accent pair (the widget fixes the text colour; say so here) -----
  function rgbOf(colour) {
    const probe = document.createElement("span");
    probe.style.color = colour;
    document.body.append(probe);
    const m = getComputedStyle(probe).color.match(/[\d.]+/g);
    probe.remove();
    return m ? m.slice(0, 3).map(Number) : null;
  }
  const lin = (v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const value = (name) => {
    const token = TOKENS.find((t) => t[0] === name);
    return state.tokens[name] || (darkPreview() && token[3]) || token[2];
  };
  function checkContrast() {
    const a = rgbOf(value("accent"));
    const t = rgbOf(value("accent-text"));
    const out = document.getElementById("pg-contrast");
    if (!a || !t) return;
    const ratio = contrast(a, t);
    out.textContent = ratio < 4.5
      ? `Warning: accent and accent-text contrast is ${ratio.toFixed(2)}:1, below WCAG AA (4.5:1). ` +
        "The widget uses a readable text colour instead (checked when a button appears and each time a sheet opens)."
      : "";
  }

  // --- Controls ------------------------------------------------------------------------
  const list = document.getElementById("pg-tokens");
  for (const [name, kind, light, dark] of TOKENS) {
    const row = document.createElement("div");
    row.className = "pg-token";
    const label = document.createElement("label");
    label.htmlFor = `pg-t-${name}`;
    const code = document.createElement("code");
    code.textContent = `--tweetbuy-${name}`;
    label.append(code);
    const inputs = document.createElement("div");
    inputs.className = "pg-token-inputs";
    const text = document.createElement("input");
    text.type = "text";
    text.id = `pg-t-${name}`;
    text.dataset.token = name;
    text.placeholder = darkPreview() && dark ? dark : light;
    text.value = state.tokens[name] || "";
    inputs.append(text);
    if (kind === "colour") {
      const picker = document.createElement("input");
      picker.type = "color";
      picker.setAttribute("aria-label", `--tweetbuy-${name} colour picker`);
      picker.value = /^#[0-9a-f]{6}$/i.test(text.value || text.placeholder) ? text.value || text.placeholder : "#000000";
      picker.addEventListener("input", () => {
        text.value = picker.value;
        text.dispatchEvent(new Event("input"));
      });
      inputs.append(picker);
    }
    text.addEventListener("input", () => {
      const picker = inputs.querySelector("input[type=color]");
      if (picker && /^#[0-9a-f]{6}$/i.test(text.value.trim())) picker.value = text.value.trim();
      if (text.value.trim()) state.tokens[name] = text.value.trim();
      else delete state.tokens[name];
      changed();
    });
    row.append(label, inputs);
    list.append(row);
  }

  function css() {
    const lines = Object.entries(state.tokens).map(([n, v]) => `  --tweetbuy-${n}: ${v};`);
    const attrs = [];
    if (state.theme !== "auto") attrs.push(`data-theme="${state.theme}"`);
    if (state.style !== "filled") attrs.push(`data-button-style="${state.style}"`);
    if (state.label) attrs.push(`data-label="${state.label}"`);
    let out = `/* tweetbuy theme: on any ancestor of your tweet embeds */\nbody {\n${lines.join("\n") || "  /* the defaults */"}\n}\n`;
    if (attrs.length) out += `/* and on the tweetbuy script tag (or one embed): ${attrs.join(" ")} */\n`;
    return out;
  }

  function changed() {
    save(state);
    applyTokens();
    checkContrast();
    document.getElementById("pg-css").value = css();
  }

  const select = (id, key) => {
    const el = document.getElementById(id);
    el.value = state[key];
    el.addEventListener("change", () => {
      state[key] = el.value;
      save(state);
      location.reload();
    });
  };
  select("pg-theme", "theme");
  select("pg-style", "style");
  const labelInput = document.getElementById("pg-label");
  labelInput.value = state.label || "";
  labelInput.addEventListener("change", () => {
    state.label = labelInput.value.trim();
    save(state);
    location.reload();
  });

  for (const button of document.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => {
      const p = PRESETS[button.dataset.preset];
      state = { theme: p.theme, style: state.style, label: state.label, tokens: { ...p.tokens } };
      save(state);
      location.search = "";
    });
  }
  document.getElementById("pg-reset").addEventListener("click", () => {
    state.tokens = {};
    for (const input of list.querySelectorAll("input[type=text]")) input.value = "";
    changed();
  });
  document.getElementById("pg-copy").addEventListener("click", async () => {
    const box = document.getElementById("pg-css");
    try {
      await navigator.clipboard.writeText(box.value);
    } catch {
      box.select();
    }
  });

  // Opening the real sheets programmatically: the tee's Buy button, then Continue.
  const teeHost = () => document.querySelector('[data-tweetbuy-host="1528000000000000001"]');
  for (const button of document.querySelectorAll("[data-open]")) {
    button.addEventListener("click", async () => {
      const root = teeHost()?.shadowRoot;
      if (!root) return;
      if (!root.querySelector("dialog[open]")) root.querySelector("button[part=button]").click();
      if (button.dataset.open === "checkout") {
        for (let i = 0; i < 50 && !root.querySelector(".tb-checkout"); i++) {
          const next = [...root.querySelectorAll("dialog .tb-primary")].find((b) => !b.disabled);
          if (next) next.click();
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
  }

  changed();
})();
