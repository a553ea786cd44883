#!/usr/bin/env node
// The `syncbag` command (npx syncbag, npm install -g, node_modules/.bin): runs the JavaScript
// built into dist/ (scripts/build.mjs, run by `npm install`/`npm ci` in a checkout and by
// `npm pack`), so worker threads and `ros2 run` load plain .js like the main thread does.
// From a checkout, `npm run syncbag -- …` runs the TypeScript sources instead.
import { existsSync } from "node:fs";

const main = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("syncbag: no build at dist/src/cli/main.js; run `npm run build` (or `npm install`) in the package folder");
  process.exit(1);
}
await import(main.href);
