// A step of Trunk's post-build hook (scripts/post-build.sh): gives the functions each wasm
// module imports from its glue, and the internal functions its glue calls, short names
// ("a", "b", … "aB"), in the wasm and in the glue alike. wasm-bindgen names the imports
// `__wbg_<method>_<16 hex digits>` and its closures' entry points
// `wasm_bindgen__convert__closures_____invoke__h<16 hex digits>`; the hex digits do not
// compress, and with ~180 imports in the button module they were ~4 KB of its brotli bytes
// (measured: wasm 37,427 → 34,913 B, glue 6,798 → 5,029 B). Runs before
// scripts/hash-names.sh, so the files' hashed names cover their final bytes.
//
// Only function imports of the modules' own glue, and exports of wasm-bindgen's own
// (`__wbindgen_*`, `__externref_*`, closure entry points), are renamed, never to a name
// another import or export keeps; the module's own API (`boot`, `main`, `open_sheet`) and
// `memory` keep theirs. The rewritten module is compiled and checked against its glue: the
// build fails on anything unexpected rather than ship a module that does not match it.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
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

/** The offset after one import's description, which starts at `at` with its kind byte. */
function skipImportDesc(bytes, at) {
  const kind = bytes[at++];
  const plainType = (type) => {
    // 0x63 and 0x64 start the longer reference types of the GC proposal.
    if (type === 0x63 || type === 0x64) throw new Error(`short-names.mjs: an import of type 0x${type.toString(16)}`);
  };
  const limits = (at) => {
    const [flags, next] = readLeb(bytes, at);
    if (flags > 7) throw new Error(`short-names.mjs: limits with flags ${flags}`);
    const afterMin = readLeb(bytes, next)[1];
    return flags & 1 ? readLeb(bytes, afterMin)[1] : afterMin;
  };
  switch (kind) {
    case 0: // function: its type's index
      return [kind, readLeb(bytes, at)[1]];
    case 1: // table: a reference type, then limits
      plainType(bytes[at]);
      return [kind, limits(at + 1)];
    case 2: // memory: limits
      return [kind, limits(at)];
    case 3: // global: a value type and whether it is mutable
      plainType(bytes[at]);
      return [kind, at + 2];
    case 4: // tag: an attribute byte, then its type's index
      return [kind, readLeb(bytes, at + 1)[1]];
    default:
      throw new Error(`short-names.mjs: unknown import kind ${kind}`);
  }
}

const text = new TextDecoder();
const utf8 = new TextEncoder();

/** The module name wasm-bindgen gives a module's imports from its own glue. */
const GLUE_MODULE = /^(wbg|\.\/[\w.-]+_bg\.js)$/;

/** Every import of a module: its names and where its bytes are. */
function readImports(wasm, body) {
  let [count, p] = readLeb(wasm, body);
  const imports = [];
  for (; count > 0; count--) {
    const [moduleLength, moduleStart] = readLeb(wasm, p);
    const module = text.decode(wasm.subarray(moduleStart, moduleStart + moduleLength));
    const [nameLength, nameStart] = readLeb(wasm, moduleStart + moduleLength);
    const name = text.decode(wasm.subarray(nameStart, nameStart + nameLength));
    const descStart = nameStart + nameLength;
    const [kind, descEnd] = skipImportDesc(wasm, descStart);
    imports.push({ module, name, kind, desc: wasm.subarray(descStart, descEnd) });
    p = descEnd;
  }
  return imports;
}

/** wasm-bindgen's own exports, which only its glue calls. */
const INTERNAL_EXPORT = /^(__wbindgen_|__externref_|wasm_bindgen__convert__closures_)/;

/** The export section's body with wasm-bindgen's own exports renamed (into `renamed`),
 * never to a name an import or another export keeps. */
function renameExports(wasm, body, end, renamed, taken) {
  let [count, p] = readLeb(wasm, body);
  const entries = [];
  for (; count > 0; count--) {
    const [length, nameStart] = readLeb(wasm, p);
    const name = text.decode(wasm.subarray(nameStart, nameStart + length));
    const descEnd = readLeb(wasm, nameStart + length + 1)[1];
    entries.push({ name, desc: wasm.subarray(nameStart + length, descEnd) });
    p = descEnd;
  }
  if (p !== end) throw new Error("short-names.mjs: the export section does not end where it says");
  for (const e of entries) if (!INTERNAL_EXPORT.test(e.name)) taken.add(e.name);
  const names = shortNames();
  const out = leb(entries.length);
  for (const e of entries) {
    let name = e.name;
    if (INTERNAL_EXPORT.test(name)) {
      let next = names.next().value;
      while (taken.has(next)) next = names.next().value;
      taken.add(next);
      renamed.set(name, next);
      name = next;
    }
    const bytes = utf8.encode(name);
    out.push(...leb(bytes.length), ...bytes, ...e.desc);
  }
  return Uint8Array.from([7, ...leb(out.length), ...out]);
}

/** The module with its glue's function imports and wasm-bindgen's own exports renamed, and
 * the names' map. */
function rename(wasm) {
  const sections = [];
  const renamed = new Map();
  // Every name an import keeps or gets; export names are kept apart from them, so that no
  // name in the glue means both.
  const taken = new Set();
  const exports = new Set();
  let at = 8;
  const exportSections = [];
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
      // Renamed once every import's name is known (the import section comes first).
      exportSections.push(sections.length);
      sections.push({ body, end });
      at = end;
      continue;
    }
    if (id !== 2) {
      sections.push(wasm.subarray(at, end));
      at = end;
      continue;
    }
    const imports = readImports(wasm, body);
    const renames = (i) => i.kind === 0 && GLUE_MODULE.test(i.module) && /^__wbg_|^__wbindgen_/.test(i.name);
    // A new name never meets a name that stays.
    const kept = new Set(imports.filter((i) => !renames(i)).map((i) => i.name));
    const names = shortNames();
    const out = leb(imports.length);
    for (const i of imports) {
      if (renames(i) && !renamed.has(i.name)) {
        let next = names.next().value;
        while (kept.has(next)) next = names.next().value;
        renamed.set(i.name, next);
      }
      const module = utf8.encode(i.module);
      const name = utf8.encode(renames(i) ? renamed.get(i.name) : i.name);
      taken.add(renames(i) ? renamed.get(i.name) : i.name);
      out.push(...leb(module.length), ...module, ...leb(name.length), ...name, ...i.desc);
    }
    sections.push(Uint8Array.from([2, ...leb(out.length), ...out]));
    at = end;
  }
  for (const from of renamed.keys()) {
    // The glue names the module's exports too; one of those must not be renamed with it.
    if (exports.has(from)) throw new Error(`short-names.mjs: ${from} is also an export`);
  }
  for (const i of exportSections) sections[i] = renameExports(wasm, sections[i].body, sections[i].end, renamed, taken);
  const header = wasm.subarray(0, 8);
  const total = sections.reduce((sum, s) => sum + s.length, header.length);
  const result = new Uint8Array(total);
  result.set(header, 0);
  let offset = header.length;
  for (const s of sections) {
    result.set(s, offset);
    offset += s.length;
  }
  return [result, renamed, exports];
}

/** The glue with every renamed name replaced; each import's must be found in it (an export
 * the glue never calls, such as `__wbindgen_free` in a module that frees nothing, need not). */
function renameInGlue(glue, renamed, exports) {
  for (const [from, to] of renamed) {
    const pattern = new RegExp(`\\b${from}\\b`, "g");
    if (!pattern.test(glue) && !exports.has(from)) throw new Error(`short-names.mjs: ${from} is not in the glue`);
    glue = glue.replace(pattern, to);
  }
  return glue;
}

/** Fails unless the rewritten module is valid, each function it imports from its glue is
 * a key the glue defines, and each export the glue calls by a wasm-bindgen name is one the
 * module has. */
function check(wasmName, wasm, glue) {
  const module = new WebAssembly.Module(wasm);
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.kind !== "function" || !GLUE_MODULE.test(i.module)) continue;
    if (!new RegExp(`(^|[{,\\s])${i.name}\\s*:`).test(glue)) {
      throw new Error(`short-names.mjs: ${wasmName} imports ${i.name}, which its glue does not define`);
    }
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  for (const [, name] of glue.matchAll(/\.((?:__wbindgen_|__externref_|wasm_bindgen__convert__closures_)\w*)/g)) {
    if (!exported.has(name)) throw new Error(`short-names.mjs: ${wasmName}'s glue calls ${name}, which the module does not export`);
  }
}

for (const wasmName of readdirSync(dir).filter((n) => n.endsWith("_bg.wasm"))) {
  const glueName = wasmName.replace(/_bg\.wasm$/, ".js");
  const wasmPath = join(dir, wasmName);
  const gluePath = join(dir, glueName);
  const [wasm, renamed, exports] = rename(readFileSync(wasmPath));
  const glue = renameInGlue(readFileSync(gluePath, "utf8"), renamed, exports);
  check(wasmName, wasm, glue);
  writeFileSync(wasmPath, wasm);
  writeFileSync(gluePath, glue);
  console.log(`short-names.mjs: ${wasmName}: ${renamed.size} imports and exports renamed`);
}
