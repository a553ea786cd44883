/**
 * Foxglove schemas as protobuf, for MCAP channels Foxglove renders with no extension:
 * foxglove.SceneUpdate (3D boxes), foxglove.ImageAnnotations (2D boxes), foxglove.RawAudio
 * (pcm-s16, plays in Foxglove's audio panel) and foxglove.CompressedAudio.
 *
 * @foxglove/schemas ships no .proto files; the .proto text comes from its own generator
 * (`@foxglove/schemas/internal.js`), parsed with protobufjs (keepCase: field names stay
 * snake_case as in Foxglove's .proto), and serialised as a FileDescriptorSet — the MCAP schema
 * data for encoding "protobuf". Encoders take @foxglove/schemas' TypeScript types, whose times
 * are {sec, nsec}; google.protobuf.Timestamp/Duration are {seconds, nanos}.
 */
import type { CompressedAudio, ImageAnnotations, RawAudio, SceneUpdate } from "@foxglove/schemas";
import * as internalModule from "@foxglove/schemas/internal.js";
import * as protobufModule from "protobufjs";
import * as descriptorModule from "protobufjs/ext/descriptor.js";

interface FoxgloveField {
  name: string;
  type: { type: "primitive"; name: string } | { type: "nested"; schema: FoxgloveSchema } | { type: "enum"; enum: FoxgloveEnum };
}
interface FoxgloveSchema {
  type: "message";
  name: string;
  protoEquivalent?: string;
  fields: readonly FoxgloveField[];
}
interface FoxgloveEnum {
  type: "enum";
  name: string;
  parentSchemaName: string;
}
interface SchemasInternal {
  foxgloveMessageSchemas: Record<string, FoxgloveSchema>;
  foxgloveEnumSchemas: Record<string, FoxgloveEnum>;
  generateProto(schema: FoxgloveSchema, nestedEnums: FoxgloveEnum[]): string;
}
/** CommonJS modules: the namespace or its `default`, depending on the loader (node, tsx, esbuild). */
function commonJs<T>(namespace: object): T {
  return ((namespace as { default?: unknown }).default ?? namespace) as T;
}
const schemas = commonJs<SchemasInternal>(internalModule);
const protobuf = commonJs<typeof protobufModule>(protobufModule);
const descriptor = commonJs<typeof descriptorModule>(descriptorModule);

/** The Foxglove protobuf schemas syncbag writes. */
export const FOXGLOVE_SCHEMA_NAMES = ["foxglove.SceneUpdate", "foxglove.ImageAnnotations", "foxglove.RawAudio", "foxglove.CompressedAudio"] as const;
export type FoxgloveSchemaName = (typeof FOXGLOVE_SCHEMA_NAMES)[number];

export interface FoxgloveProtobufSchema {
  /** Fully-qualified protobuf name, the MCAP schema name. */
  name: string;
  /** Serialised google.protobuf.FileDescriptorSet: the MCAP schema data (encoding "protobuf"). */
  data: Uint8Array;
  type: protobufModule.Type;
}

interface DescriptorSet {
  file: Array<{ name: string; package: string; dependency: string[] }>;
}

const cache = new Map<string, FoxgloveProtobufSchema>();

/** The schema of `foxglove.<Name>` (any Foxglove message schema), or undefined if there is none. */
export function foxgloveSchema(fullName: string): FoxgloveProtobufSchema | undefined {
  const cached = cache.get(fullName);
  if (cached !== undefined) return cached;
  const short = fullName.startsWith("foxglove.") ? fullName.slice("foxglove.".length) : undefined;
  const root = short !== undefined ? schemas.foxgloveMessageSchemas[short] : undefined;
  if (root === undefined) return undefined;

  const files = new protobuf.Root();
  const visit = (schema: FoxgloveSchema, seen: Set<string>): void => {
    if (seen.has(schema.name)) return;
    seen.add(schema.name);
    if (schema.protoEquivalent !== undefined) return; // google.protobuf.*: added below
    const enums = Object.values(schemas.foxgloveEnumSchemas).filter((e) => e.parentSchemaName === schema.name);
    protobuf.parse(schemas.generateProto(schema, enums), files, { keepCase: true });
    for (const field of schema.fields) if (field.type.type === "nested") visit(field.type.schema, seen);
  };
  visit(root, new Set());
  // Well-known types, from protobufjs' bundled copies of google/protobuf/*.proto.
  for (const wellKnown of ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"]) {
    const json = protobuf.common.get(wellKnown);
    if (json !== null) files.addJSON(json.nested ?? {});
  }
  files.resolveAll();
  const set = (files as protobufModule.Root & { toDescriptor(edition?: string): protobufModule.Message }).toDescriptor("proto3") as protobufModule.Message &
    DescriptorSet;
  // protobufjs leaves `dependency` empty; readers that build a descriptor pool (python, C++) need it.
  const wellKnownFiles = set.file.filter((file) => file.package === "google.protobuf").map((file) => file.name);
  for (const file of set.file) if (file.package !== "google.protobuf") file.dependency = wellKnownFiles;
  const data = descriptor.FileDescriptorSet.encode(set).finish();
  const schema = { name: fullName, data, type: files.lookupType(fullName) };
  cache.set(fullName, schema);
  return schema;
}

function requireSchema(name: FoxgloveSchemaName): FoxgloveProtobufSchema {
  const schema = foxgloveSchema(name);
  if (schema === undefined) throw new Error(`no Foxglove schema ${name} in @foxglove/schemas`);
  return schema;
}

/** Rewrites {sec, nsec} into {seconds, nanos} wherever the schema has a Timestamp or Duration. */
function toProtoObject(schema: FoxgloveSchema, value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (schema.protoEquivalent !== undefined) {
    const time = value as { sec: number; nsec: number };
    return { seconds: time.sec, nanos: time.nsec };
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of schema.fields) {
    const fieldValue = source[field.name];
    if (fieldValue === undefined) continue;
    if (field.type.type !== "nested") {
      out[field.name] = fieldValue;
      continue;
    }
    const nested = field.type.schema;
    out[field.name] = Array.isArray(fieldValue) ? fieldValue.map((item) => toProtoObject(nested, item)) : toProtoObject(nested, fieldValue);
  }
  return out;
}

function encode(name: FoxgloveSchemaName, message: object): Uint8Array {
  const schema = requireSchema(name);
  const source = schemas.foxgloveMessageSchemas[name.slice("foxglove.".length)]!;
  const object = toProtoObject(source, message) as Record<string, unknown>;
  return schema.type.encode(schema.type.fromObject(object)).finish();
}

export function encodeSceneUpdate(message: SceneUpdate): Uint8Array {
  return encode("foxglove.SceneUpdate", message);
}

export function encodeImageAnnotations(message: ImageAnnotations): Uint8Array {
  return encode("foxglove.ImageAnnotations", message);
}

/** Raw PCM audio; Foxglove plays format "pcm-s16" (interleaved little-endian). */
export function encodeRawAudio(message: RawAudio): Uint8Array {
  return encode("foxglove.RawAudio", message);
}

export function encodeCompressedAudio(message: CompressedAudio): Uint8Array {
  return encode("foxglove.CompressedAudio", message);
}
