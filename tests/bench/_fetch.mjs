import { startServer } from "../e2e/harness.mjs";
import { writeFileSync } from "node:fs";
const server = await startServer();
const r = await fetch(`${server.origins.api}/tweetbuy/embed.js`);
writeFileSync("/tmp/scratch/embed.js", await r.text());
process.exit(0);
