/**
 * Foxglove messages as CDR (foxglove_msgs, see foxglove-msgs.ts): SceneUpdate (3D boxes),
 * ImageAnnotations (2D boxes), RawAudio and CompressedAudio. Encoders take @foxglove/schemas'
 * TypeScript types and write exactly the fields foxglove_msgs defines: times {sec, nsec} become
 * builtin_interfaces {sec, nanosec}, a field the package lacks (the SDK's later optional fields)
 * is not written, and a field left out gets its ROS default.
 */
import type { CompressedAudio, ImageAnnotations, RawAudio, SceneUpdate } from "@foxglove/schemas";
import { defaultCodec } from "./codec.js";
import { FOXGLOVE_MSGS, standardSchema, type FoxgloveRoot, type FoxgloveSchema } from "./foxglove-msgs.js";

export { FOXGLOVE_MSGS, FOXGLOVE_ROOTS, foxgloveMsgTexts } from "./foxglove-msgs.js";

/** The ROS 2 type (`foxglove_msgs/SceneUpdate`…) of a Foxglove schema: the name outputs and the recorder use. */
export function foxgloveType(name: FoxgloveRoot): string {
  return `${FOXGLOVE_MSGS}/${name}`;
}

type Field = FoxgloveSchema["fields"][number];

function defaultOf(field: Field): unknown {
  if (field.array !== undefined && field.array !== false) return [];
  const type = field.type;
  if (type.type === "enum") return 0;
  if (type.type === "nested") return toRos(type.schema, {});
  switch (type.name) {
    case "string":
      return "";
    case "boolean":
      return false;
    case "bytes":
      return new Uint8Array(0);
    default:
      return 0;
  }
}

/** A Foxglove value as the ROS 2 message of foxglove_msgs (field by field, standard fields only). */
function toRos(schema: FoxgloveSchema, value: unknown): unknown {
  const source = (value ?? {}) as Record<string, unknown>;
  if (schema.name === "Timestamp" || schema.name === "Duration") {
    return { sec: Number(source.sec ?? 0), nanosec: Number(source.nsec ?? 0) };
  }
  const standard = standardSchema(schema.name) ?? schema;
  const out: Record<string, unknown> = {};
  for (const field of standard.fields) {
    const fieldValue = source[field.name];
    if (fieldValue === undefined) {
      out[field.name] = defaultOf(field);
      continue;
    }
    const type = field.type;
    if (type.type !== "nested") out[field.name] = fieldValue;
    else out[field.name] = Array.isArray(fieldValue) ? fieldValue.map((item) => toRos(type.schema, item)) : toRos(type.schema, fieldValue);
  }
  return out;
}

function encode(name: FoxgloveRoot, message: object): Uint8Array {
  const schema = standardSchema(name);
  if (schema === undefined) throw new Error(`no Foxglove schema ${name} in @foxglove/schemas`);
  return defaultCodec().encode(foxgloveType(name), toRos(schema, message));
}

export function encodeSceneUpdate(message: SceneUpdate): Uint8Array {
  return encode("SceneUpdate", message);
}

/** Written without ImageAnnotations.timestamp/metadata (not in foxglove_msgs): each annotation carries its own timestamp. */
export function encodeImageAnnotations(message: ImageAnnotations): Uint8Array {
  return encode("ImageAnnotations", message);
}

/** Raw PCM audio; Foxglove plays format "pcm-s16" (interleaved little-endian). */
export function encodeRawAudio(message: RawAudio): Uint8Array {
  return encode("RawAudio", message);
}

export function encodeCompressedAudio(message: CompressedAudio): Uint8Array {
  return encode("CompressedAudio", message);
}
