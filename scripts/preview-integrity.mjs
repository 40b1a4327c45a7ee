// A step of Trunk's post-build hook (scripts/post-build.sh), after every step that changes
// or renames the modules' files: Trunk's preview page (dist/index.html, a developer's page;
// publishers load embed.js) names each file with the `integrity` of the bytes Trunk wrote,
// so each is computed again from the final file. A file the page names that is missing
// fails the build.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("run by trunk as a post_build hook (TRUNK_STAGING_DIR is not set)");
const indexPath = join(dir, "index.html");
const index = readFileSync(indexPath, "utf8").replace(/<link\b[^>]*>/g, (tag) => {
  const href = /\bhref="([^"]+)"/.exec(tag)?.[1];
  if (!href || !/\bintegrity="/.test(tag)) return tag;
  const file = join(dir, basename(href));
  if (!existsSync(file)) throw new Error(`preview-integrity.mjs: index.html names ${href}, which is not in the build`);
  const digest = createHash("sha384").update(readFileSync(file)).digest("base64");
  return tag.replace(/\bintegrity="[^"]*"/, `integrity="sha384-${digest}"`);
});
writeFileSync(indexPath, index);
