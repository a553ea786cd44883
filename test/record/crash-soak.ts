/**
 * The long kill -9 soak: `npx tsx test/record/crash-soak.ts [rounds=200]`. Prints per-round loss
 * and a summary; exits 1 if any round lost a message of a complete chunk or more than one second.
 */
import { crashRound } from "./fixtures/crash-round.js";
import { prng, tempDir } from "./helpers.js";

const rounds = Number(process.argv[2] ?? 200);
const { dir, cleanup } = tempDir();
const random = prng(Date.now() & 0xffffffff);
let failures = 0;
const losses: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const killAfterMs = 50 + (random() % 2000);
    const compression = ["zstd", "lz4", "none"][round % 3]!;
    const result = await crashRound(dir, round, killAfterMs, { compression });
    losses.push(result.lossMs);
    if (result.problems.length > 0) failures++;
    console.log(`round ${round} ${compression} kill@${killAfterMs}ms recovered=${result.recovered} loss=${result.lossMs.toFixed(0)}ms ${result.problems.join("; ") || "ok"}`);
  }
} finally {
  cleanup();
}
losses.sort((a, b) => a - b);
console.log(`${rounds} rounds, ${failures} failed; loss before kill: median ${losses[Math.floor(losses.length / 2)]?.toFixed(0)} ms, max ${losses.at(-1)?.toFixed(0)} ms`);
process.exit(failures > 0 ? 1 : 0);
