#!/usr/bin/env node
// The `syncbag` command for installed copies: runs the TypeScript sources through tsx, so no
// build step stands between `npm install` and a working CLI.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
