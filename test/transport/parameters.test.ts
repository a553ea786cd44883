import assert from "node:assert/strict";
import { z } from "zod";
import {
  checkParameter,
  describeParameterSchema,
  formatParameterTable,
  flattenParameters,
  resolveParameters,
  unflattenParameters,
  zodToParameterDescriptors,
} from "../../src/transport/parameters.js";

const Schema = z.object({
  output_dir: z.string().default("bags/out").describe("Folder for recordings"),
  node_id: z.string().meta({ readOnly: true, description: "Vehicle id" }),
  split_size_mb: z.number().int().min(1).max(65536).default(2048),
  rate_hz: z.number().positive().default(10),
  ratio: z.number().gte(0).lte(1).default(0.5),
  frame: z.literal("base_link").default("base_link"),
  mode: z.enum(["estimate", "trust_header"]).default("estimate"),
  use_gpu: z.boolean().optional(),
  immutable: z.string().readonly().default("x"),
  cameras: z.array(z.string()).default(["camera_front"]),
  gains: z.array(z.number()).default([]),
  recorder: z
    .object({ compression: z.enum(["none", "zstd"]), chunk_mb: z.number().int().positive() })
    .default({ compression: "zstd", chunk_mb: 4 }),
  sensors: z.record(z.string(), z.object({ topic: z.string() })).default({}),
  anything: z.union([z.string(), z.object({ a: z.number() })]).optional(),
});

describe("zod → ROS parameter descriptors", () => {
  const descriptors = zodToParameterDescriptors(Schema);
  const byName = new Map(descriptors.map((d) => [d.name, d]));

  it("maps leaf types to ROS parameter types with dotted names for nested objects", () => {
    const kinds = Object.fromEntries(descriptors.map((d) => [d.name, d.kind]));
    assert.deepEqual(kinds, {
      output_dir: "string",
      node_id: "string",
      split_size_mb: "integer",
      rate_hz: "double",
      ratio: "double",
      frame: "string",
      mode: "string",
      use_gpu: "bool",
      immutable: "string",
      cameras: "string_array",
      gains: "double_array",
      "recorder.compression": "string",
      "recorder.chunk_mb": "integer",
    });
  });

  it("carries ranges (inclusive, integer exclusive bounds moved by one), defaults, descriptions and read-only", () => {
    assert.deepEqual(byName.get("split_size_mb")?.range, { from: 1, to: 65536, step: 0 });
    assert.deepEqual(byName.get("ratio")?.range, { from: 0, to: 1, step: 0 });
    const rate = byName.get("rate_hz");
    assert.equal(rate?.range?.from, 0);
    assert.equal(rate?.range?.to, Number.MAX_VALUE);
    assert.match(rate?.additionalConstraints ?? "", /> 0/);
    assert.equal(byName.get("recorder.chunk_mb")?.range?.from, 1, "exclusive 0 → from 1 for integers");
    assert.equal(byName.get("split_size_mb")?.defaultValue, 2048);
    assert.equal(byName.get("recorder.chunk_mb")?.defaultValue, 4, "a parent default reaches its children");
    assert.equal(byName.get("output_dir")?.description, "Folder for recordings");
    assert.equal(byName.get("node_id")?.readOnly, true);
    assert.equal(byName.get("immutable")?.readOnly, true);
    assert.equal(byName.get("output_dir")?.readOnly, false);
    assert.equal(byName.get("node_id")?.defaultValue, undefined);
    assert.equal(byName.get("mode")?.additionalConstraints, "one of: estimate, trust_header");
    assert.equal(byName.get("frame")?.additionalConstraints, "one of: base_link");
    assert.equal(byName.get("output_dir")?.range, undefined);
  });

  it("lists records and unions as dynamic subtrees instead of inventing parameters", () => {
    const { dynamic } = describeParameterSchema(Schema);
    assert.deepEqual(
      dynamic.map((d) => d.prefix),
      ["sensors", "anything"],
    );
    assert.equal(byName.has("sensors"), false);
  });

  it("prefixes names and refuses non-object schemas", () => {
    assert.ok(zodToParameterDescriptors(z.object({ a: z.number() }), { prefix: "align" }).some((d) => d.name === "align.a"));
    assert.throws(() => zodToParameterDescriptors(z.string()), /object schema/);
  });

  it("checks values against descriptors, naming the key, the value and the expectation", () => {
    assert.equal(checkParameter(byName.get("split_size_mb")!, 100), null);
    assert.equal(checkParameter(byName.get("split_size_mb")!, 0), "parameter split_size_mb: value 0 is outside the range [1, 65536]");
    assert.equal(checkParameter(byName.get("split_size_mb")!, 1.5), "parameter split_size_mb: value 1.5 is not an integer");
    assert.equal(checkParameter(byName.get("cameras")!, ["a", 1] as unknown as string[]), 'parameter cameras: value ["a",1] is not a string array');
    assert.equal(checkParameter(byName.get("ratio")!, 2), "parameter ratio: value 2 is outside the range [0, 1]");
  });

  it("resolves defaults overlaid with given values and reports every bad value at once", () => {
    const resolved = resolveParameters(descriptors, { split_size_mb: 16, "sensors.lidar.topic": "/points" });
    assert.equal(resolved.split_size_mb, 16);
    assert.equal(resolved.output_dir, "bags/out");
    assert.equal(resolved["sensors.lidar.topic"], "/points");
    assert.equal("node_id" in resolved, false);
    assert.throws(
      () => resolveParameters(descriptors, { split_size_mb: 0, ratio: -1 }),
      (e: Error) => e.message.includes("split_size_mb") && e.message.includes("ratio"),
    );
  });

  it("round-trips nested objects through the flat dotted form, and zod accepts the result", () => {
    const nested = { output_dir: "/data", node_id: "car7", recorder: { compression: "none", chunk_mb: 8 }, sensors: { lidar: { topic: "/points" } } };
    const flat = flattenParameters(nested);
    assert.deepEqual(flat, { output_dir: "/data", node_id: "car7", "recorder.compression": "none", "recorder.chunk_mb": 8, "sensors.lidar.topic": "/points" });
    assert.deepEqual(unflattenParameters(flat), nested);
    const parsed = Schema.parse(unflattenParameters(resolveParameters(descriptors, flat)));
    assert.equal(parsed.recorder.chunk_mb, 8);
    assert.equal(parsed.sensors.lidar?.topic, "/points");
    assert.throws(() => flattenParameters({ bad: [{ a: 1 }] }), /parameter bad/);
  });

  it("formats a Markdown parameter table for the README", () => {
    const table = formatParameterTable(describeParameterSchema(Schema)).split("\n");
    assert.equal(table[0], "| parameter | type | default | constraints | read-only | description |");
    assert.ok(table.includes("| `split_size_mb` | integer | `2048` | 1 … 65536 | no | — |"), table.join("\n"));
    assert.ok(table.includes("| `rate_hz` | double | `10` | 0 … ∞; > 0 | no | — |"), table.join("\n"));
    assert.ok(table.includes("| `node_id` | string | — | — | yes | Vehicle id |"), table.join("\n"));
    assert.ok(table.includes("| `mode` | string | `\"estimate\"` | one of: estimate, trust_header | no | — |"), table.join("\n"));
    assert.ok(table.includes("| `sensors.*` | dotted overrides | — | record with free keys | no | — |"), table.join("\n"));
    assert.equal(table.length, 2 + 13 + 2);
  });
});
