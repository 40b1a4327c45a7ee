// The first step of Trunk's post-build hook (scripts/post-build.sh): gives the functions
// each wasm module imports from its glue short names ("a", "b", … "aB"), in the wasm and in
// the glue alike. wasm-bindgen names them
// `__wbg_<method>_<16 hex digits>`; the hex digits do not compress, and with ~180 imports
// in the button module they were ~4 KB of its brotli bytes (measured: wasm 37,427 →
// 34,913 B, glue 6,798 → 5,029 B). Runs before scripts/hash-names.sh, so the checkout
// module's hash covers the final bytes, and rewrites the `integrity` of Trunk's preview
// page (dist/index.html) for the files it changed.
//
// Only function imports of the modules' own glue are renamed, and only where the new name
// cannot meet an export or another import: the build fails on anything unexpected rather
// than ship a module whose imports do not match its glue.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("run by trunk as a post_build hook (TRUNK_STAGING_DIR is not set)");

/** Unsigned LEB128 at `at`: [value, next offset]. */
function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

const RESERVED = new Set(["do", "if", "in"]);
const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The n-th short name: a … Z, aa, ab, … (never a reserved word). */
function* shortNames() {
  for (let length = 1; ; length++) {
    for (let n = 0; n < LETTERS.length ** length; n++) {
      let name = "";
      for (let k = 0, rest = n; k < length; k++, rest = Math.floor(rest / LETTERS.length)) {
        name = LETTERS[rest % LETTERS.length] + name;
      }
      if (!RESERVED.has(name)) yield name;
    }
  }
}

/** Reads one import entry's description (after its names), returning the offset after it. */
function skipImportDesc(bytes, at) {
  const kind = bytes[at++];
  if (kind === 0) return [kind, readLeb(bytes, at)[1]];
  if (kind === 1) at++; // table: element type, then limits
  if (kind === 1 || kind === 2) {
    const [flags, next] = readLeb(bytes, at);
    at = readLeb(bytes, next)[1];
    return [kind, flags & 1 ? readLeb(bytes, at)[1] : at];
  }
  if (kind === 3) return [kind, at + 2];
  if (kind === 4) return [kind, at + 2];
  throw new Error(`short-imports.mjs: unknown import kind ${kind}`);
}

const text = new TextDecoder();
const utf8 = new TextEncoder();

/** The module with its glue's function imports renamed, and the names' map. */
function rename(wasm) {
  const sections = [];
  const renamed = new Map();
  const exports = new Set();
  const names = shortNames();
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    const end = body + size;
    if (id === 7) {
      let [count, p] = readLeb(wasm, body);
      for (; count > 0; count--) {
        const [length, name] = readLeb(wasm, p);
        exports.add(text.decode(wasm.subarray(name, name + length)));
        p = readLeb(wasm, name + length + 1)[1];
      }
    }
    if (id !== 2) {
      sections.push(wasm.subarray(at, end));
      at = end;
      continue;
    }
    let [count, p] = readLeb(wasm, body);
    const out = leb(count);
    for (; count > 0; count--) {
      const [moduleLength, moduleStart] = readLeb(wasm, p);
      const module = wasm.subarray(moduleStart, moduleStart + moduleLength);
      const [nameLength, nameStart] = readLeb(wasm, moduleStart + moduleLength);
      const name = text.decode(wasm.subarray(nameStart, nameStart + nameLength));
      const descStart = nameStart + nameLength;
      const [kind, descEnd] = skipImportDesc(wasm, descStart);
      let newName = name;
      if (kind === 0 && /^__wbg_|^__wbindgen_/.test(name)) {
        if (!renamed.has(name)) renamed.set(name, names.next().value);
        newName = renamed.get(name);
      }
      const encoded = utf8.encode(newName);
      out.push(...leb(moduleLength), ...module, ...leb(encoded.length), ...encoded, ...wasm.subarray(descStart, descEnd));
      p = descEnd;
    }
    sections.push(Uint8Array.from([2, ...leb(out.length), ...out]));
    at = end;
  }
  for (const [from, to] of renamed) {
    if (exports.has(from) || exports.has(to)) throw new Error(`short-imports.mjs: ${from} is also an export`);
  }
  const header = wasm.subarray(0, 8);
  const total = sections.reduce((sum, s) => sum + s.length, header.length);
  const result = new Uint8Array(total);
  result.set(header, 0);
  let offset = header.length;
  for (const s of sections) {
    result.set(s, offset);
    offset += s.length;
  }
  return [result, renamed];
}

/** The glue with every renamed import's name replaced; each must be found in it. */
function renameInGlue(glue, renamed) {
  for (const [from, to] of renamed) {
    const pattern = new RegExp(`\\b${from}\\b`, "g");
    if (!pattern.test(glue)) throw new Error(`short-imports.mjs: ${from} is not in the glue`);
    glue = glue.replace(pattern, to);
  }
  return glue;
}

const integrity = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;
const indexPath = join(dir, "index.html");
let index = existsSync(indexPath) ? readFileSync(indexPath, "utf8") : "";

for (const wasmName of readdirSync(dir).filter((n) => n.endsWith("_bg.wasm"))) {
  const glueName = wasmName.replace(/_bg\.wasm$/, ".js");
  const wasmPath = join(dir, wasmName);
  const gluePath = join(dir, glueName);
  const [wasm, renamed] = rename(readFileSync(wasmPath));
  const glue = renameInGlue(readFileSync(gluePath, "utf8"), renamed);
  writeFileSync(wasmPath, wasm);
  writeFileSync(gluePath, glue);
  for (const [name, bytes] of [[wasmName, wasm], [glueName, glue]]) {
    const reference = new RegExp(`(href="[^"]*/${name.replace(/\./g, "\\.")}"[^>]*integrity=")[^"]*`);
    index = index.replace(reference, `$1${integrity(bytes)}`);
  }
  console.log(`short-imports.mjs: ${wasmName}: ${renamed.size} imports renamed`);
}
if (index) writeFileSync(indexPath, index);
