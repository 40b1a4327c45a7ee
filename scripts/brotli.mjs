// Brotli at its best quality, as the build precompresses the widget's files
// (scripts/precompress.mjs) and as the size test and `make bench` count them
// (tests/bench/sizes.mjs): one function, so the bytes counted are the bytes sent.
//
// The encoder's block size is tried at its default and at its smallest, and the smaller
// output kept: on the checkout module's wasm the smallest blocks came out 331 B shorter
// (118,968 → 118,637 B at commit 62fe57d), on the other files the same within a byte. Any
// browser decodes either.
import { brotliCompressSync, constants } from "node:zlib";

/** The smaller of the two brotli encodings of `bytes`. */
export function brotli(bytes) {
  const encode = (extra) =>
    brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length, ...extra },
    });
  const usual = encode({});
  const small = encode({ [constants.BROTLI_PARAM_LGBLOCK]: constants.BROTLI_MIN_INPUT_BLOCK_BITS });
  return small.length < usual.length ? small : usual;
}
