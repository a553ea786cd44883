/** Item 1 of issue 17: a worker thread that cannot load fails each drive with one line and the batch ends. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runBatch } from "../../src/convert/batch.js";
import { fixtureMessages, writeMcap } from "../convert/fixtures.js";

const COPY_DOUBLE = { module: new URL("../../src/convert/copy-converter.js", import.meta.url).href, exportName: "copyOnlyConverter" };

describe("cli/worker-load: a worker module that fails to load", function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-worker-load-"));
    for (const name of ["a", "b", "c"]) await writeMcap(join(dir, `${name}.mcap`), fixtureMessages(1));
    // What a worker met under the old bin: its module cannot be imported.
    await writeFile(join(dir, "broken-worker.mjs"), 'throw new Error("Unknown file extension \\".ts\\" for /x/worker.ts\\n    at somewhere");\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const jobs of [1, 2]) {
    it(`fails every drive with one line and ends (-j ${jobs}, three drives)`, async () => {
      const summary = await runBatch(
        { inputs: [join(dir, "a.mcap"), join(dir, "b.mcap"), join(dir, "c.mcap")], outDir: join(dir, `out${jobs}`), jobs, converter: COPY_DOUBLE, workerModule: pathToFileURL(join(dir, "broken-worker.mjs")).href },
        { progress: null },
      );
      assert.equal(summary.failed, 3);
      assert.equal(summary.exitCode, 1);
      for (const d of summary.drives) {
        assert.equal(d.error?.kind, "worker");
        assert.equal(d.error?.reason, 'worker thread failed to load: Unknown file extension ".ts" for /x/worker.ts');
      }
    });
  }
});
