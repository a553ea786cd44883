import assert from "node:assert/strict";
import { defaultCatalogue, MessageCatalogue, UnknownMessageTypeError } from "../../src/messages/catalogue.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { MessageDecodeError, NoHeaderError } from "../../src/messages/errors.js";
import { readFrameId, readStamp, StampReader, type StampParts } from "../../src/messages/stamp.js";
import { toNs, type RosTime } from "../../src/messages/time.js";
import { EncapsulationKind, encodeWithKind, prng, randomMessage, sampleMessages } from "./fixtures.js";

const catalogue = defaultCatalogue();
const codec = defaultCodec();
const KINDS = [EncapsulationKind.CDR_LE, EncapsulationKind.CDR_BE, EncapsulationKind.CDR2_LE, EncapsulationKind.CDR2_BE] as const;

interface WithHeader {
  header: { stamp: RosTime; frame_id: string };
}

function headerTypes(): string[] {
  const stamps = new StampReader(catalogue);
  return catalogue.types().filter((t) => stamps.hasHeader(t));
}

describe("messages/stamp: in-place header reader", () => {
  it("finds a header on exactly the types whose first field is a std_msgs/Header (and on Header itself)", () => {
    const types = headerTypes();
    for (const type of types) {
      const first = catalogue.get(type).definitions.find((f) => f.isConstant !== true);
      assert.ok(type === "std_msgs/Header" || first?.type === "std_msgs/Header", type);
    }
    for (const type of ["sensor_msgs/PointCloud2", "sensor_msgs/Image", "sensor_msgs/CompressedImage", "sensor_msgs/CameraInfo", "sensor_msgs/Imu", "sensor_msgs/NavSatFix", "nav_msgs/Odometry", "syncbag/AudioChunk", "syncbag/AlignedFrame"]) {
      assert.ok(types.includes(type), type);
    }
    assert.ok(!types.includes("tf2_msgs/TFMessage") && !types.includes("syncbag/AlignedSample"));
    assert.ok(types.length > 40, `${types.length} header types`);
  });

  for (const { type, message } of sampleMessages()) {
    const stamped = "header" in message;
    it(`${type}: ${stamped ? "stamp and frame_id agree with the full decoder in CDR/XCDR2, LE/BE" : "refused with NoHeaderError"}`, () => {
      for (const kind of KINDS) {
        const bytes = encodeWithKind(catalogue, type, message, kind);
        if (!stamped) {
          assert.throws(() => readStamp(type, bytes), (e: unknown) => e instanceof NoHeaderError && e.type === type && e.message.includes(type));
          assert.throws(() => readFrameId(type, bytes), NoHeaderError);
          continue;
        }
        const decoded = codec.decode<WithHeader>(type, bytes);
        assert.equal(readStamp(type, bytes), toNs(decoded.header.stamp), `kind ${kind}`);
        assert.equal(readFrameId(type, bytes), decoded.header.frame_id);
        // …and both equal what was written.
        assert.equal(readStamp(type, bytes), toNs((message as unknown as WithHeader).header.stamp));
      }
    });
  }

  it("agrees with the decoder on random messages of every header-bearing type (negative seconds, empty frame ids)", () => {
    const random = prng(99);
    const stamps = new StampReader(catalogue);
    let checked = 0;
    for (const type of headerTypes()) {
      for (let i = 0; i < 4; i++) {
        const message = randomMessage(catalogue, type, random);
        // std_msgs/Header is read as its own header.
        const headerOf = (m: unknown): WithHeader["header"] => (type === "std_msgs/Header" ? (m as WithHeader["header"]) : (m as WithHeader).header);
        if (i === 0) headerOf(message).frame_id = "";
        for (const kind of KINDS) {
          const bytes = encodeWithKind(catalogue, type, message, kind);
          const decoded = headerOf(codec.decode(type, bytes));
          assert.equal(stamps.readStamp(type, bytes), toNs(decoded.stamp), type);
          assert.equal(stamps.readFrameId(type, bytes), decoded.frame_id, type);
          checked++;
        }
      }
    }
    assert.ok(checked > 600);
  });

  it("forType: a per-type reader that checks the type once and reads like readStamp/readFrameId", () => {
    const stamps = new StampReader(catalogue);
    for (const { type, message } of sampleMessages()) {
      if (!("header" in message)) {
        assert.throws(() => stamps.forType(type), (e: unknown) => e instanceof NoHeaderError && e.type === type);
        continue;
      }
      const reader = stamps.forType(type.replace("/", "/msg/"));
      assert.equal(reader.type, type);
      for (const kind of KINDS) {
        const bytes = encodeWithKind(catalogue, type, message, kind);
        const header = (message as unknown as WithHeader).header;
        assert.equal(reader.readStamp(bytes), toNs(header.stamp));
        assert.deepEqual(reader.readStampInto(bytes, { sec: 0, nanosec: 0 }), header.stamp);
        assert.equal(reader.readFrameId(bytes), header.frame_id);
        assert.throws(() => reader.readStamp(bytes.subarray(0, 9)), (e: unknown) => e instanceof MessageDecodeError && e.offset === 9 && e.type === type);
      }
    }
    assert.throws(() => stamps.forType("acme_msgs/Radar"), UnknownMessageTypeError);
  });

  it("readStampInto fills the caller's object and allocates nothing else", () => {
    const { type, message } = sampleMessages().find((s) => s.type === "sensor_msgs/Imu")!;
    const bytes = codec.encode(type, message);
    const out: StampParts = { sec: 0, nanosec: 0 };
    const stamps = new StampReader(catalogue);
    assert.equal(stamps.readStampInto(type, bytes, out), out);
    assert.deepEqual(out, (message as unknown as WithHeader).header.stamp);
  });

  it("reads the stamp of a buffer truncated right after it, but not its frame_id", () => {
    const { type, message } = sampleMessages().find((s) => s.type === "sensor_msgs/PointCloud2")!;
    const bytes = codec.encode(type, message);
    assert.equal(readStamp(type, bytes.subarray(0, 12)), toNs((message as unknown as WithHeader).header.stamp));
    const error = (() => {
      try {
        readFrameId(type, bytes.subarray(0, 20));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof MessageDecodeError);
    assert.equal(error.offset, 12);
    assert.equal(error.type, "sensor_msgs/PointCloud2");
  });

  it("names the offset of a truncated header", () => {
    const bytes = codec.encode("sensor_msgs/Imu", sampleMessages().find((s) => s.type === "sensor_msgs/Imu")!.message);
    for (const length of [0, 3, 4, 8, 11]) {
      assert.throws(
        () => readStamp("sensor_msgs/Imu", bytes.subarray(0, length)),
        (e: unknown) => e instanceof MessageDecodeError && e.offset === length && e.type === "sensor_msgs/Imu",
        `length ${length}`,
      );
    }
  });

  it("refuses parameter-list encapsulations with a typed error", () => {
    const bytes = codec.encode("sensor_msgs/Imu", sampleMessages().find((s) => s.type === "sensor_msgs/Imu")!.message).slice();
    for (const kind of [EncapsulationKind.PL_CDR_LE, EncapsulationKind.PL_CDR_BE, EncapsulationKind.PL_CDR2_LE, EncapsulationKind.DELIMITED_CDR2_LE]) {
      bytes[1] = kind;
      assert.throws(() => readStamp("sensor_msgs/Imu", bytes), (e: unknown) => e instanceof MessageDecodeError && e.offset === 1 && /unsupported encapsulation PL_|DELIMITED/.test(e.reason));
    }
  });

  it("throws UnknownMessageTypeError for unknown types", () => {
    assert.throws(() => readStamp("acme_msgs/Radar", new Uint8Array(16)), UnknownMessageTypeError);
  });

  it("refuses a std_msgs/Header that is not laid out like ROS 2's", () => {
    const odd = new MessageCatalogue();
    odd.addMsgText("std_msgs/Header", "uint64 stamp_ns\nstring frame_id\n");
    odd.addMsgText("acme_msgs/Ping", "std_msgs/Header header\nuint8 x\n");
    assert.throws(() => new StampReader(odd).readStamp("acme_msgs/Ping", new Uint8Array(32)), NoHeaderError);
  });

  it("works on types read from a recording's schema (catalogue built from schema text)", () => {
    const text = "std_msgs/Header header\nfloat32 range\n" + "=".repeat(80) + "\nMSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id\n" + "=".repeat(80) + "\nMSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n";
    const recorded = MessageCatalogue.fromSchemaText("acme_msgs/msg/Sonar", text);
    const message = { header: { stamp: { sec: 12, nanosec: 34 }, frame_id: "sonar" }, range: 2.5 };
    const bytes = encodeWithKind(recorded, "acme_msgs/Sonar", message, EncapsulationKind.CDR_BE);
    const stamps = new StampReader(recorded);
    assert.equal(stamps.readStamp("acme_msgs/msg/Sonar", bytes), 12_000_000_034n);
    assert.equal(stamps.readFrameId("acme_msgs/Sonar", bytes), "sonar");
  });
});
