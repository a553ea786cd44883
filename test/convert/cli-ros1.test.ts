/**
 * Issue 17 items 9 and 10 (ROS 1): messages sharing a log time keep their file order, a damaged
 * chunk is named by its byte offset, and salvage keeps every intact chunk after it.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodec } from "../../src/messages/codec.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { RecordingError } from "../../src/convert/readers/source.js";
import { ros1Serialize, writeRos1Bag, type Ros1Message } from "./ros1-fixture.js";

const STRING = "string data\n";
const T0 = 1_600_000_000_000_000_000n;

async function texts(path: string, salvage = false): Promise<{ texts: string[]; warnings: readonly string[] }> {
  const source = await openRecording(path, { salvage });
  const out: string[] = [];
  try {
    for await (const m of source.messages()) out.push((defaultCodec().decode("std_msgs/String", m.data) as { data: string }).data);
  } finally {
    await source.close();
  }
  return { texts: out, warnings: source.warnings };
}

describe("convert/cli-ros1: ROS 1 bags read through their chunk records", function () {
  let dir: string;
  // Groups of five messages share a log time; chunks of seven cut through the groups.
  const messages: Ros1Message[] = Array.from({ length: 70 }, (_, i) => ({ conn: 0, time: T0 + BigInt(Math.floor(i / 5)) * 10_000_000n, data: ros1Serialize(STRING, { data: `m${i}` }) }));
  const expected = messages.map((_, i) => `m${i}`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-ros1-"));
    await writeRos1Bag(join(dir, "ties.bag"), [{ topic: "/chatter", type: "std_msgs/String", definition: STRING }], messages, { compression: "lz4", perChunk: 7 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("messages sharing a log time come out in file order", async () => {
    assert.deepEqual((await texts(join(dir, "ties.bag"))).texts, expected);
  });

  describe("a damaged chunk", () => {
    let damagedAt: number;
    before(async () => {
      const bytes = new Uint8Array(await readFile(join(dir, "ties.bag")));
      // The fourth chunk record (op=5): found by its header field, then its data scrambled.
      const marker = new TextEncoder().encode("compression=lz4");
      const hits: number[] = [];
      for (let i = 0; i + marker.length <= bytes.length; i++) if (marker.every((b, j) => bytes[i + j] === b)) hits.push(i);
      assert.ok(hits.length >= 8, `${hits.length} chunks`);
      damagedAt = hits[3]!;
      for (let i = 60; i < 90; i++) bytes[damagedAt + i]! ^= 0x5a;
      await writeFile(join(dir, "damaged.bag"), bytes);
    });

    it("fails naming the chunk's byte offset", async () => {
      await assert.rejects(texts(join(dir, "damaged.bag")), (error: unknown) => error instanceof RecordingError && /chunk at byte \d+ \(\d+ messages\): /.test(error.reason));
    });

    it("with salvage: only that chunk's messages are lost, every chunk after it is kept", async () => {
      const { texts: got, warnings } = await texts(join(dir, "damaged.bag"), true);
      const lost = expected.filter((t) => !got.includes(t));
      assert.deepEqual(lost, expected.slice(21, 28), "exactly the fourth chunk of seven messages");
      assert.deepEqual(got, expected.filter((t) => !lost.includes(t)));
      assert.ok(warnings.some((w) => /^salvaged: 1 of 10 chunks damaged and skipped \(chunk at byte \d+ /.test(w)), warnings.join("\n"));
    });
  });
});
