/** Issue 17 item 13: a failing input is shown as failed, never as `done 100%` first. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBatch } from "../../src/convert/batch.js";
import { fixtureMessages, writeMcap } from "./fixtures.js";

const COPY_DOUBLE = { module: new URL("../../src/convert/copy-converter.js", import.meta.url).href, exportName: "copyOnlyConverter" };

describe("convert/cli-progress: progress of a failing drive", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-progress-"));
    await writeMcap(join(dir, "good.mcap"), fixtureMessages(1));
    const bytes = await readFile(join(dir, "good.mcap"));
    await writeFile(join(dir, "cut.mcap"), bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const inProcess of [true, false]) {
    it(`says failed, not done 100% (${inProcess ? "in-process" : "worker threads"})`, async () => {
      const lines: string[] = [];
      const summary = await runBatch({ inputs: [join(dir, "good.mcap"), join(dir, "cut.mcap")], outDir: join(dir, `out-${inProcess}`), jobs: 2, converter: COPY_DOUBLE, inProcess }, { progress: { write: (t) => void lines.push(t), isTTY: false } });
      assert.equal(summary.failed, 1, JSON.stringify(summary.drives));
      const cut = lines.filter((l) => l.includes("] cut: "));
      assert.ok(cut.some((l) => /cut: failed at \d+% /.test(l)), cut.join(""));
      assert.ok(!cut.some((l) => /cut: done/.test(l)), cut.join(""));
      assert.ok(lines.some((l) => /good: done 100%/.test(l)), lines.join(""));
      assert.match(lines.at(-1)!, /^\[100%/);
    });
  }
});
