import assert from "node:assert/strict";
import { defaultCatalogue, MessageCatalogue, UnknownMessageTypeError } from "../../src/messages/catalogue.js";
import { defaultCodec, MessageCodec } from "../../src/messages/codec.js";
import { isMessageError, MessageDecodeError, NoHeaderError } from "../../src/messages/errors.js";
import { bigPointCloud, EncapsulationKind, encodeWithKind, prng, randomMessage, sampleMessages } from "./fixtures.js";

const catalogue = defaultCatalogue();
const codec = defaultCodec();
const KINDS = [EncapsulationKind.CDR_LE, EncapsulationKind.CDR_BE, EncapsulationKind.CDR2_LE, EncapsulationKind.CDR2_BE] as const;

function decodeError(fn: () => unknown): MessageDecodeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof MessageDecodeError, `expected MessageDecodeError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a MessageDecodeError, nothing was thrown");
}

describe("messages/codec: CDR round trip", () => {
  const samples = sampleMessages();

  it("covers the named sensor types and every msg/ type", () => {
    const covered = new Set(samples.map((s) => s.type));
    for (const type of ["sensor_msgs/PointCloud2", "sensor_msgs/Image", "sensor_msgs/CompressedImage", "sensor_msgs/CameraInfo", "sensor_msgs/Imu", "sensor_msgs/NavSatFix", "nav_msgs/Odometry", "tf2_msgs/TFMessage"]) {
      assert.ok(covered.has(type), type);
    }
    for (const type of catalogue.types().filter((t) => t.startsWith("syncbag/"))) assert.ok(covered.has(type), `msg/ type ${type} has no sample`);
  });

  for (const { type, message } of samples) {
    it(`${type}: decode(encode(m)) equals m, and re-encodes to the same bytes`, () => {
      const bytes = codec.encode(type, message);
      assert.deepEqual([...bytes.subarray(0, 4)], [0, 1, 0, 0], "CDR_LE encapsulation");
      const decoded = codec.decode<Record<string, unknown>>(type, bytes);
      assert.deepStrictEqual(decoded, message);
      assert.deepStrictEqual(codec.encode(type, decoded), bytes);
      assert.equal(codec.validate(type, bytes), bytes.length);
    });

    it(`${type}: big-endian and XCDR2 buffers (written by @foxglove/cdr) decode to the same message`, () => {
      for (const kind of KINDS) {
        const bytes = encodeWithKind(catalogue, type, message, kind);
        assert.equal(bytes[1], kind);
        assert.deepStrictEqual(codec.decode(type, bytes), message, `kind 0x${kind.toString(16)}`);
      }
      // The independent writer agrees byte for byte with the codec's own little-endian output.
      assert.deepStrictEqual(encodeWithKind(catalogue, type, message, EncapsulationKind.CDR_LE), codec.encode(type, message));
    });
  }

  it("round-trips random messages of every catalogue type, in all four plain encapsulations", () => {
    const random = prng(2024);
    let checked = 0;
    for (const type of catalogue.types()) {
      for (let i = 0; i < 3; i++) {
        const message = randomMessage(catalogue, type, random);
        const bytes = codec.encode(type, message);
        assert.deepStrictEqual(codec.decode(type, bytes), message, type);
        for (const kind of KINDS) {
          const encoded = encodeWithKind(catalogue, type, message, kind);
          assert.deepStrictEqual(codec.decode(type, encoded), message, `${type} kind ${kind}`);
          // The layout walker ends exactly where the writer stopped: it models the layout byte for byte.
          assert.equal(codec.validate(type, encoded), encoded.length, `${type} kind ${kind}: walked length`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 3 * 150, `only ${checked} messages`);
  });

  it("accepts pkg/msg/Type spellings and trailing bytes", () => {
    const { message } = sampleMessages().find((s) => s.type === "sensor_msgs/Imu")!;
    const bytes = codec.encode("sensor_msgs/msg/Imu", message);
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes);
    assert.deepStrictEqual(codec.decode("sensor_msgs/msg/Imu", padded), message);
    assert.equal(codec.validate("sensor_msgs/Imu", padded), bytes.length);
  });
});

describe("messages/codec: malformed input gives typed errors", () => {
  const cloud = sampleMessages().find((s) => s.type === "sensor_msgs/PointCloud2")!;
  const bytes = codec.encode(cloud.type, cloud.message);

  it("names the type and the offset of a truncation", () => {
    const error = decodeError(() => codec.decode("sensor_msgs/PointCloud2", bytes.subarray(0, bytes.length - 10)));
    assert.equal(error.type, "sensor_msgs/PointCloud2");
    // The cut falls inside `data`: the error points at data's length, which claims more than is left.
    const dataLengthAt = bytes.length - 1 - (cloud.message.data as Uint8Array).length - 4;
    assert.equal(error.offset, dataLengthAt);
    assert.match(error.message, new RegExp(`sensor_msgs/PointCloud2 at byte ${dataLengthAt}:`));
    assert.match(error.reason, /sequence 'sensor_msgs\/PointCloud2\.data' claims \d+ elements/);
  });

  it("detects a truncation inside a subarray of a larger buffer (which the raw reader would read past)", () => {
    const big = new Uint8Array(bytes.length + 100);
    big.set(bytes);
    decodeError(() => codec.decode("sensor_msgs/PointCloud2", big.subarray(0, bytes.length - 1)));
  });

  it("fails fast, without allocating, on a sequence length of 2^31", () => {
    const corrupt = bytes.slice();
    const dataLengthAt = bytes.length - 1 - (cloud.message.data as Uint8Array).length - 4;
    new DataView(corrupt.buffer).setUint32(dataLengthAt, 2 ** 31, true);
    const before = process.memoryUsage().arrayBuffers;
    const error = decodeError(() => codec.decode("sensor_msgs/PointCloud2", corrupt));
    assert.equal(error.offset, dataLengthAt);
    assert.match(error.reason, /claims 2147483648 elements/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  });

  it("refuses a corrupt count of structs before looping over it", () => {
    const tf = sampleMessages().find((s) => s.type === "tf2_msgs/TFMessage")!;
    const corrupt = codec.encode(tf.type, tf.message).slice();
    new DataView(corrupt.buffer).setUint32(4, 0xffffffff, true);
    const start = process.hrtime.bigint();
    const error = decodeError(() => codec.decode(tf.type, corrupt));
    assert.ok(process.hrtime.bigint() - start < 50_000_000n, "refused without walking 4 billion elements");
    assert.equal(error.offset, 4);
    assert.match(error.reason, /4294967295 elements/);
  });

  it("refuses parameter-list and delimited encapsulations, and a missing header", () => {
    for (const kind of [0x02, 0x03, 0x08, 0x0a, 0x12, 0x13, 0x14, 0x15, 0x42]) {
      const corrupt = bytes.slice();
      corrupt[1] = kind;
      const error = decodeError(() => codec.decode("sensor_msgs/PointCloud2", corrupt));
      assert.equal(error.offset, 1);
      assert.match(error.reason, /unsupported encapsulation/);
    }
    assert.equal(decodeError(() => codec.decode("sensor_msgs/Imu", new Uint8Array([0, 1]))).offset, 2);
    assert.equal(decodeError(() => codec.decode("sensor_msgs/Imu", new Uint8Array([7, 1, 0, 0, 1, 2, 3]))).offset, 0);
  });

  it("throws UnknownMessageTypeError for a type it does not know, also for a missing dependency", () => {
    assert.throws(() => codec.decode("acme_msgs/Radar", bytes), UnknownMessageTypeError);
    const partial = new MessageCatalogue();
    partial.addMsgText("acme_msgs/Track", "std_msgs/Header header\nacme_msgs/Box box\n");
    assert.throws(
      () => new MessageCodec(partial).decode("acme_msgs/Track", bytes),
      (error: unknown) => error instanceof UnknownMessageTypeError && error.missing === "std_msgs/Header",
    );
  });

  it("reports a truncated string at the string's bytes, after its length", () => {
    const image = sampleMessages().find((s) => s.type === "sensor_msgs/Image")!;
    const encoded = codec.encode(image.type, image.message);
    // header: stamp (8) + frame_id length (4) + "camera_front_optical\0" (21) → height at 4+8+4+21 = 37 → aligned 40.
    const error = decodeError(() => codec.decode(image.type, encoded.subarray(0, 30)));
    assert.equal(error.offset, 16);
    assert.match(error.reason, /string 'std_msgs\/Header\.frame_id' needs 21 bytes, 14 left/);
  });

  it("isMessageError tells the layer's refusals from bugs", () => {
    assert.ok(isMessageError(decodeError(() => codec.decode("sensor_msgs/Imu", new Uint8Array(3)))));
    assert.ok(isMessageError(new UnknownMessageTypeError("acme_msgs/Radar")));
    assert.ok(isMessageError(new NoHeaderError("tf2_msgs/TFMessage")));
    assert.ok(!isMessageError(new RangeError("offset is outside the bounds of the DataView")));
  });

  it("names the exact field of a truncation inside a fixed-size struct (measured once, then checked in one step)", () => {
    const odometry = sampleMessages().find((s) => s.type === "nav_msgs/Odometry")!;
    // header: stamp 4..12, frame_id "odom" (length at 12, bytes 16..21); child_frame_id length at 24, "base_link\0" 28..38;
    // pose.pose.position.x: float64 aligned to 8 (CDR) or 4 (XCDR2) from byte 4 → 44 or 40; y follows.
    for (const [kind, y] of [[EncapsulationKind.CDR_LE, 52], [EncapsulationKind.CDR_BE, 52], [EncapsulationKind.CDR2_LE, 48]] as const) {
      const encoded = encodeWithKind(catalogue, odometry.type, odometry.message, kind);
      // Walk a whole one first, so the fixed-size spans are measured before the truncated one.
      assert.equal(codec.validate(odometry.type, encoded), encoded.length);
      const error = decodeError(() => codec.decode(odometry.type, encoded.subarray(0, y + 4)));
      assert.equal(error.offset, y, `kind ${kind}`);
      assert.match(error.reason, /^float64 'geometry_msgs\/Point\.y' needs 8 bytes, 4 left/);
    }
  });

  it("decodes a 4 MB PointCloud2 (checks the walker on big payloads)", () => {
    const message = bigPointCloud(4 * 1024 * 1024);
    const encoded = codec.encode("sensor_msgs/PointCloud2", message);
    assert.ok(encoded.length > 4_000_000);
    const decoded = codec.decode<{ data: Uint8Array; width: number }>("sensor_msgs/PointCloud2", encoded);
    assert.equal(decoded.width, 2048);
    assert.deepStrictEqual(decoded.data, message.data);
  });
});
