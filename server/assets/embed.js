// tweetbuy loader: the one script a publisher adds to a page with tweet embeds.
// The server fills in the content-hashed names of the current build, so this small file
// can be cached briefly while the module and wasm it loads are cached forever.
import init from "./{{GLUE}}";

// For `make bench`: script start → first button is measured from this mark.
performance.mark("tweetbuy:script-start");

init({ module_or_path: new URL("./{{WASM}}", import.meta.url) }).catch((error) => {
  // Never break the host page: one warning, no exception.
  console.warn("tweetbuy: could not start", error);
});
