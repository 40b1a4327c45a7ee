// A step of Trunk's post-build hook (scripts/post-build.sh): the loader publishers include,
// as the template the server fills in (server/src/api/widget.rs), minified like the build's
// other scripts. Its sources stay readable in server/assets: embed.js, with
// lookup-rules.mjs put in at its `{{LOOKUP_RULES}}` line (their `export`s dropped: the
// loader exports nothing, so terser may rename and drop what it likes). The placeholders
// the server fills in are kept: `{{BUTTON_GLUE}}` stands where an expression goes, so it
// crosses terser as a global name, which terser never renames; the others are inside
// strings. Writes $TRUNK_STAGING_DIR/embed.template.js (named in manifest.json by
// hash-names.sh).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("run by trunk as a post_build hook (TRUNK_STAGING_DIR is not set)");
const assets = new URL("../server/assets/", import.meta.url);
const embed = readFileSync(new URL("embed.js", assets), "utf8");
const rules = readFileSync(new URL("lookup-rules.mjs", assets), "utf8").replace(/^export /gm, "");
const GLUE_NAME = "__tweetbuy_button_glue__";
const once = (text, part, where) => {
  if (text.split(part).length !== 2) throw new Error(`loader-template.mjs: ${where} must hold ${part} exactly once`);
  return text;
};
const source = once(once(embed, "{{LOOKUP_RULES}}", "embed.js"), "{{BUTTON_GLUE}}", "embed.js")
  .replace("{{LOOKUP_RULES}}", () => rules)
  .replace("{{BUTTON_GLUE}}", GLUE_NAME);
const work = mkdtempSync(join(tmpdir(), "loader-"));
try {
  writeFileSync(join(work, "embed.js"), source);
  execFileSync("terser", [join(work, "embed.js"), "--module", "--compress", "--mangle", "--output", join(work, "min.js")]);
  const template = once(readFileSync(join(work, "min.js"), "utf8"), GLUE_NAME, "the minified loader").replace(GLUE_NAME, "{{BUTTON_GLUE}}");
  for (const placeholder of ["{{WASM}}", "{{CHECKOUT_WASM}}", "{{CHECKOUT_GLUE}}", "{{BUTTON_GLUE}}"]) once(template, placeholder, "the minified loader");
  writeFileSync(join(dir, "embed.template.js"), template);
} finally {
  rmSync(work, { recursive: true, force: true });
}
