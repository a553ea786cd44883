/**
 * Fuzz: random, truncated, bit-flipped and length-corrupted buffers through the decoder and the
 * stamp reader (seeded, so a failure reproduces). Every failure must be a typed error, and where
 * both succeed they must agree.
 */
import assert from "node:assert/strict";
import { defaultCatalogue } from "../../src/messages/catalogue.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { MessageDecodeError } from "../../src/messages/errors.js";
import { StampReader } from "../../src/messages/stamp.js";
import { toNs, type RosTime } from "../../src/messages/time.js";
import { EncapsulationKind, encodeWithKind, prng, randomMessage, sampleMessages } from "./fixtures.js";

const catalogue = defaultCatalogue();
const codec = defaultCodec();
const stamps = new StampReader(catalogue);
const CASES = 40_000;

interface Seed {
  type: string;
  bytes: Uint8Array;
}

function seeds(random: () => number): Seed[] {
  const out: Seed[] = [];
  const kinds = [EncapsulationKind.CDR_LE, EncapsulationKind.CDR_BE, EncapsulationKind.CDR2_LE];
  for (const { type, message } of sampleMessages()) {
    if (type === "sensor_msgs/PointCloud2" || type === "sensor_msgs/Image") continue; // big payloads add bytes, not paths
    for (const kind of kinds) out.push({ type, bytes: encodeWithKind(catalogue, type, message, kind) });
  }
  for (const type of catalogue.types()) {
    out.push({ type, bytes: encodeWithKind(catalogue, type, randomMessage(catalogue, type, random), kinds[Math.floor(random() * kinds.length)]!) });
  }
  return out;
}

type Mutation = "random" | "truncated" | "bit-flipped" | "length-corrupted";

function mutate(seed: Seed, random: () => number, mutation: Mutation): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  switch (mutation) {
    case "random": {
      const bytes = Uint8Array.from({ length: pick(160) }, () => pick(256));
      // Most random buffers get a plausible encapsulation header so the walk goes past byte 4.
      if (bytes.length >= 2 && random() < 0.8) bytes.set([0, [0, 1, 0x10, 0x11, 3][pick(5)]!], 0);
      return bytes;
    }
    case "truncated":
      return seed.bytes.slice(0, pick(seed.bytes.length));
    case "bit-flipped": {
      const bytes = seed.bytes.slice();
      for (let i = 1 + pick(8); i > 0; i--) {
        const at = pick(bytes.length);
        bytes[at] = bytes[at]! ^ (1 << pick(8));
      }
      return bytes;
    }
    case "length-corrupted": {
      // A huge or slightly-off uint32 at a 4-aligned offset: where sequence and string lengths live.
      const bytes = seed.bytes.slice();
      const slots = Math.floor((bytes.length - 4) / 4);
      if (slots <= 0) return bytes;
      const at = 4 + 4 * pick(slots);
      const values = [0x7fffffff, 0x80000000, 0xffffffff, 0x10000, bytes.length, pick(64)];
      new DataView(bytes.buffer).setUint32(at, values[pick(values.length)]!, bytes[1] !== 0 && bytes[1] !== 0x10);
      return bytes;
    }
  }
}

describe("messages/fuzz: decoder and stamp reader on hostile buffers", () => {
  it(`${CASES} random, truncated, bit-flipped and length-corrupted buffers: only typed errors, no disagreement`, function () {
    this.timeout(60_000);
    const random = prng(0x5eed);
    const pool = seeds(random);
    const mutations: Mutation[] = ["random", "truncated", "bit-flipped", "length-corrupted"];
    const outcomes = { decoded: 0, decodeErrors: 0, stampRead: 0, stampErrors: 0, agreed: 0 };
    const perMutation = new Map<Mutation, number>();
    const started = Date.now();
    for (let i = 0; i < CASES; i++) {
      const seed = pool[Math.floor(random() * pool.length)]!;
      const mutation = mutations[i % mutations.length]!;
      perMutation.set(mutation, (perMutation.get(mutation) ?? 0) + 1);
      const bytes = mutate(seed, random, mutation);
      const context = `case ${i} (${mutation} ${seed.type}, ${bytes.length} bytes)`;

      let decoded: unknown;
      try {
        decoded = codec.decode(seed.type, bytes);
        outcomes.decoded++;
      } catch (error) {
        assert.ok(error instanceof MessageDecodeError, `${context}: decode threw ${String(error)}`);
        assert.equal(error.type, seed.type);
        // The layout walk, not the underlying reader, must be what refuses: a reader refusal means the walk let a bad buffer through.
        assert.ok(!error.reason.startsWith("reader refused"), `${context}: ${error.reason}`);
        // The offset is where the failing value starts: past the end only by alignment padding.
        assert.ok(Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= bytes.length + 7, `${context}: offset ${error.offset}`);
        outcomes.decodeErrors++;
      }

      if (!stamps.hasHeader(seed.type)) continue;
      let stamp: bigint | undefined;
      let frameId: string | undefined;
      try {
        stamp = stamps.readStamp(seed.type, bytes);
        frameId = stamps.readFrameId(seed.type, bytes);
        outcomes.stampRead++;
      } catch (error) {
        assert.ok(error instanceof MessageDecodeError, `${context}: stamp reader threw ${String(error)}`);
        assert.ok(error.offset >= 0 && error.offset <= bytes.length, `${context}: offset ${error.offset}`);
        outcomes.stampErrors++;
      }
      if (decoded !== undefined && stamp !== undefined) {
        const header = (seed.type === "std_msgs/Header" ? decoded : (decoded as { header: unknown }).header) as { stamp: RosTime; frame_id: string };
        assert.equal(stamp, toNs(header.stamp), context);
        assert.equal(frameId, header.frame_id, context);
        outcomes.agreed++;
      }
    }
    const seconds = (Date.now() - started) / 1000;
    // Every mutation kind ran, and both paths were exercised on both sides.
    for (const mutation of mutations) assert.ok((perMutation.get(mutation) ?? 0) >= CASES / 4 - 1, mutation);
    assert.ok(outcomes.decoded > 500 && outcomes.decodeErrors > 3000, JSON.stringify(outcomes));
    assert.ok(outcomes.stampErrors > 100 && outcomes.agreed > 500, JSON.stringify(outcomes));
    assert.ok(seconds < 30, `fuzz took ${seconds} s`);
  });
});
