#!/usr/bin/env node
// Builds what an installed `syncbag` runs: every src/**/*.ts transpiled to dist/src/**/*.js
// (one file per module, same layout, ESM, source maps), the data files under src/ (built-in rig
// YAMLs) copied beside them. Transpiling only (esbuild strips types; `npm run typecheck` is the type check), so the
// rclnodejs adapter is emitted too although its typings are not installed. Runs at `prepare`
// (npm install/ci in a checkout, npm pack) and before the tests (`npm test`).
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  // An install without devDependencies has nothing to build with; the packed tarball ships dist.
  console.error("syncbag build: esbuild is not installed (npm install --include=dev); dist/ left as it is");
  process.exit(process.env.npm_lifecycle_event === "prepare" ? 0 : 1);
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const src = join(root, "src");
const out = join(root, "dist", "src");
const files = walk(src);
const entryPoints = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
// A clean tree: a module deleted from src must not linger in dist.
rmSync(join(root, "dist"), { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  outdir: out,
  outbase: src,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  bundle: false,
  logLevel: "warning",
});
// Data files beside the modules (the built-in rig YAMLs, and any other non-TypeScript asset) go
// along, so code finding them from import.meta.url finds them in dist/ too.
for (const f of files.filter((f) => !f.endsWith(".ts") && !f.endsWith(".md"))) {
  const to = join(out, relative(src, f));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(f, to);
}
console.error(`syncbag build: ${entryPoints.length} modules → ${relative(process.cwd(), out) || "."}`);
