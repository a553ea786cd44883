import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { packageRoot } from "../../src/messages/catalogue.js";
import { McapRecorder } from "../../src/record/recorder.js";
import { recoverMcap } from "../../src/record/recover.js";
import { createFileSink, DirectFileSink, onLocalBlockFs } from "../../src/record/direct-sink.js";
import { FileSink, MemorySink } from "../../src/record/sink.js";
import { bytes, messageStream, readIndexed, sameMessages, tempDir, testSchemas } from "./helpers.js";

const run = promisify(execFile);

/** O_DIRECT in the flags of this process's open descriptor of `path` (/proc/self/fdinfo), or null when none is open. */
function openedDirect(path: string): boolean | null {
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== path) continue;
    const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 0o40000) !== 0;
  }
  return null;
}

describe("record/direct-sink: O_DIRECT writes of an MCAP byte stream", function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it("writes the same bytes as a buffered sink for writes of every size, each readable once its write resolved", async () => {
    const path = join(tmp.dir, "direct.bin");
    const sink = await DirectFileSink.tryCreate(path);
    assert.ok(sink !== null, "this test folder's file system takes O_DIRECT");
    assert.equal(openedDirect(path), true, "the descriptor is open with O_DIRECT");
    const reference = new MemorySink();
    // Sizes around the 4 KiB block, past the 8 MiB staging (it grows) and past its 64 MiB cap (several rounds).
    const sizes = [1, 100, 4095, 4096, 4097, 0, 3, (1 << 20) + 3, 9 << 20, 8191, 70 << 20, 12, 4096 * 3 - 1];
    for (const [i, size] of sizes.entries()) {
      // Several buffers per write, as the MCAP writer hands over a chunk's pieces.
      const parts = [bytes(Math.floor(size / 3), i * 3, false), bytes(size - 2 * Math.floor(size / 3), i * 3 + 1, false), bytes(Math.floor(size / 3), i * 3 + 2, false)];
      await sink.write(parts);
      await reference.write(parts);
      assert.equal(sink.position(), reference.position());
      // What a kill -9 now would leave: every byte written, then at most one block of zeros.
      const onDisk = readFileSync(path);
      const expected = reference.bytes();
      assert.ok(onDisk.subarray(0, expected.byteLength).equals(expected), `after write ${i} (${size} bytes) the file holds every byte`);
      assert.ok(onDisk.byteLength - expected.byteLength < 4096 && onDisk.subarray(expected.byteLength).every((b) => b === 0), `after write ${i}: ${onDisk.byteLength - expected.byteLength} bytes of padding`);
    }
    await sink.close();
    assert.ok(readFileSync(path).equals(reference.bytes()), "closed: exactly the bytes written");
  });

  it("cuts back and goes on from an unaligned position, as the MCAP writer does after a failed write", async () => {
    const path = join(tmp.dir, "cut.bin");
    const sink = (await DirectFileSink.tryCreate(path))!;
    const reference = new MemorySink();
    for (const sinkOf of [sink, reference]) {
      await sinkOf.write([bytes(10_000, 1, false)]);
      await sinkOf.write([bytes(5_000, 2, false)]);
      await sinkOf.truncate(12_345);
      await sinkOf.write([bytes(777, 3, false), bytes(6000, 4, false)]);
      await sinkOf.truncate(8192);
      await sinkOf.write([bytes(1, 5, false)]);
    }
    assert.equal(sink.position(), reference.position());
    await sink.close();
    assert.ok(readFileSync(path).equals(reference.bytes()));
  });

  it("falls back to buffered writes where O_DIRECT is refused, and only then", async () => {
    const refused = Object.assign(new Error("EINVAL: invalid argument, open"), { code: "EINVAL" });
    const path = join(tmp.dir, "fallback.bin");
    assert.equal(await DirectFileSink.tryCreate(path, () => Promise.reject(refused)), null);
    const denied = Object.assign(new Error("EACCES: permission denied, open"), { code: "EACCES" });
    await assert.rejects(DirectFileSink.tryCreate(path, () => Promise.reject(denied)), /EACCES/, "other errors are errors");
    const buffered = await createFileSink(path, { direct: false });
    assert.ok(buffered instanceof FileSink);
    assert.equal(openedDirect(path), false);
    await buffered.close();
    const directPath = join(tmp.dir, "direct-mode.bin");
    const direct = await createFileSink(directPath, { direct: true });
    // Direct on a local disk's file system (ext4 here); tmpfs, NFS or FUSE get buffered writes.
    assert.equal(direct instanceof DirectFileSink, await onLocalBlockFs(tmp.dir));
    await direct.close();
    assert.equal(statSync(directPath).mode, statSync(path).mode, "created with the same permissions as a buffered file");
    if (existsSync("/dev/shm")) {
      const shm = mkdtempSync("/dev/shm/syncbag-direct-");
      try {
        assert.equal(await onLocalBlockFs(shm), false, "tmpfs is no local block device");
        const inMemory = await createFileSink(join(shm, "f.bin"), { direct: true });
        assert.ok(inMemory instanceof FileSink);
        await inMemory.close();
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    }
  });

  it("writes buffered where WebAssembly is off (node --jitless), instead of failing to load", async () => {
    const path = join(tmp.dir, "jitless.bin");
    const module = pathToFileURL(join(packageRoot(), "src", "record", "direct-sink.ts")).href;
    const script = `import { createFileSink, DirectFileSink } from ${JSON.stringify(module)};
      const sink = await createFileSink(${JSON.stringify(path)}, { direct: true });
      await sink.write([new Uint8Array([1, 2, 3])]);
      await sink.close();
      console.log(typeof WebAssembly, sink instanceof DirectFileSink ? "direct" : "buffered");`;
    const { stdout } = await run(process.execPath, ["--jitless", "--no-warnings", "--import", "tsx", "--input-type=module", "-e", script], { cwd: packageRoot() });
    assert.equal(stdout.trim(), "undefined buffered");
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  });

  it("a recording written direct and killed before closing is recovered whole, up to its last flush", async () => {
    const recorder = new McapRecorder({ config: { outputDir: tmp.dir, baseName: "killed", compression: "none", chunkSize: 100_000 }, schemaFor: testSchemas, timedFlush: false });
    await recorder.start();
    const messages = messageStream(300);
    for (const m of messages) recorder.write(m);
    await recorder.flush();
    const live = recorder.stats().currentFile!;
    assert.equal(openedDirect(live), await onLocalBlockFs(tmp.dir), "the recorder writes direct by default on a local disk");
    // A copy of the file as it stands: what a kill -9 leaves (the process never closes it).
    const copy = join(tmp.dir, "copy.mcap");
    writeFileSync(copy, readFileSync(live));
    const report = await recoverMcap(copy, join(tmp.dir, "recovered.mcap"));
    assert.equal(report.messagesRecovered, messages.length, JSON.stringify(report.stoppedAt));
    assert.equal(sameMessages((await readIndexed(join(tmp.dir, "recovered.mcap"))).messages, messages), null);
    await recorder.close();
    assert.equal(sameMessages((await readIndexed(live)).messages, messages), null, "closed normally: every message, no padding left");
  });
});
