// A step of Trunk's post-build hook (scripts/post-build.sh): gives the functions each wasm
// module imports from its glue short names ("a", "b", … "aB"), in the wasm and in the glue
// alike. wasm-bindgen names them `__wbg_<method>_<16 hex digits>`; the hex digits do not
// compress, and with ~180 imports
// in the button module they were ~4 KB of its brotli bytes (measured: wasm 37,427 →
// 34,913 B, glue 6,798 → 5,029 B). Runs before scripts/hash-names.sh, so the files' hashed
// names cover their final bytes.
//
// Only function imports of the modules' own glue are renamed, never to a name another
// import keeps, and the rewritten module is compiled and checked against its glue: the
// build fails on anything unexpected rather than ship a module whose imports do not match
// its glue.
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
    if (type === 0x63 || type === 0x64) throw new Error(`short-imports.mjs: an import of type 0x${type.toString(16)}`);
  };
  const limits = (at) => {
    const [flags, next] = readLeb(bytes, at);
    if (flags > 7) throw new Error(`short-imports.mjs: limits with flags ${flags}`);
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
      throw new Error(`short-imports.mjs: unknown import kind ${kind}`);
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

/** The module with its glue's function imports renamed, and the names' map. */
function rename(wasm) {
  const sections = [];
  const renamed = new Map();
  const exports = new Set();
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
      out.push(...leb(module.length), ...module, ...leb(name.length), ...name, ...i.desc);
    }
    sections.push(Uint8Array.from([2, ...leb(out.length), ...out]));
    at = end;
  }
  for (const from of renamed.keys()) {
    // The glue names the module's exports too; one of those must not be renamed with it.
    if (exports.has(from)) throw new Error(`short-imports.mjs: ${from} is also an export`);
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

/** Fails unless the rewritten module is valid and each function it imports from its glue
 * is a key the glue defines. */
function check(wasmName, wasm, glue) {
  for (const i of WebAssembly.Module.imports(new WebAssembly.Module(wasm))) {
    if (i.kind !== "function" || !GLUE_MODULE.test(i.module)) continue;
    if (!new RegExp(`(^|[{,\\s])${i.name}\\s*:`).test(glue)) {
      throw new Error(`short-imports.mjs: ${wasmName} imports ${i.name}, which its glue does not define`);
    }
  }
}

for (const wasmName of readdirSync(dir).filter((n) => n.endsWith("_bg.wasm"))) {
  const glueName = wasmName.replace(/_bg\.wasm$/, ".js");
  const wasmPath = join(dir, wasmName);
  const gluePath = join(dir, glueName);
  const [wasm, renamed] = rename(readFileSync(wasmPath));
  const glue = renameInGlue(readFileSync(gluePath, "utf8"), renamed);
  check(wasmName, wasm, glue);
  writeFileSync(wasmPath, wasm);
  writeFileSync(gluePath, glue);
  console.log(`short-imports.mjs: ${wasmName}: ${renamed.size} imports renamed`);
}
