
// Both modules' start, in place of wasm-bindgen's `initSync` and `init` (scripts/post-build.sh
// puts it there). Theirs take a module, bytes, a URL, a Request or a Response, in two calling
// conventions, with a warning for each misuse: 0.4 KB brotli of the loader, which every page
// view pays for. The loader passes the wasm's `fetch`; Trunk's preview page, its URL.
async function __wbg_init({ module_or_path: source }) {
  const response = await (typeof source === "string" ? fetch(source) : source);
  if (!response.ok) throw new Error(`failed to fetch Wasm: ${response.status} ${response.url}`);
  const imports = __wbg_get_imports();
  // Served under another type than application/wasm (a misconfigured proxy), it still
  // compiles, from its bytes, as wasm-bindgen's own start would.
  const { instance, module } = await WebAssembly.instantiateStreaming(response.clone(), imports).catch(() =>
    response.arrayBuffer().then((bytes) => WebAssembly.instantiate(bytes, imports)),
  );
  return __wbg_finalize_init(instance, module);
}

export { __wbg_init as default };
