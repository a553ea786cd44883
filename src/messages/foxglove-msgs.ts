/**
 * The Foxglove schemas as ROS 2 messages (package foxglove_msgs), so the overlays syncbag records
 * (3D boxes as SceneUpdate, 2D boxes as ImageAnnotations) are CDR channels like every other one:
 * `ros2 bag play` refuses a file that mixes serialization formats, and Foxglove and Lichtblick
 * render `foxglove_msgs/msg/*` natively.
 *
 * The .msg texts come from @foxglove/schemas' own ROS 2 generator (`generateRosMsgDefinition` /
 * `generateRosMsg` in `@foxglove/schemas/internal.js`), minus the fields it marks `optional`: those
 * were added by the Foxglove SDK after foxglove_msgs 3.x (e.g. ImageAnnotations.timestamp and
 * .metadata, PointsAnnotation.metadata) and are not in the foxglove_msgs package a ROS user
 * installs, so CDR written with them would not decode against that package's type support.
 * This module imports nothing of syncbag's: the catalogue adds these texts to its standard set.
 */
import * as internalModule from "@foxglove/schemas/internal.js";

interface FoxgloveField {
  name: string;
  optional?: boolean;
  array?: boolean | number;
  type: { type: "primitive"; name: string } | { type: "nested"; schema: FoxgloveSchema } | { type: "enum"; enum: { name: string } };
}
export interface FoxgloveSchema {
  type: "message";
  name: string;
  rosEquivalent?: string;
  fields: readonly FoxgloveField[];
}
interface SchemasInternal {
  foxgloveMessageSchemas: Record<string, FoxgloveSchema>;
  generateRosMsgDefinition(schema: FoxgloveSchema, options: { rosVersion: 2 }): unknown;
  generateRosMsg(definition: unknown, options: { rosVersion: 2 }): string;
}
/** CommonJS module: the namespace or its `default`, depending on the loader (node, tsx, esbuild). */
const schemas = ((internalModule as { default?: unknown }).default ?? internalModule) as SchemasInternal;

export const FOXGLOVE_MSGS = "foxglove_msgs";

/** The schemas syncbag writes; their dependencies come with them. */
export const FOXGLOVE_ROOTS = ["SceneUpdate", "ImageAnnotations", "RawAudio", "CompressedAudio"] as const;
export type FoxgloveRoot = (typeof FOXGLOVE_ROOTS)[number];

/** Time and Duration are builtin_interfaces in ROS 2; Pose, Vector3… map to geometry_msgs. */
function isBuiltin(schema: FoxgloveSchema): boolean {
  return schema.name === "Timestamp" || schema.name === "Duration";
}

/** A Foxglove schema as foxglove_msgs defines it: the fields the package has (no `optional` ones). */
export function standardSchema(name: string): FoxgloveSchema | undefined {
  const schema = schemas.foxgloveMessageSchemas[name];
  return schema === undefined ? undefined : { ...schema, fields: schema.fields.filter((f) => f.optional !== true) };
}

let texts: Map<string, string> | undefined;
/** `foxglove_msgs/<Name>` → .msg text, for the roots and every foxglove type they use. */
export function foxgloveMsgTexts(): Map<string, string> {
  if (texts !== undefined) return texts;
  const out = new Map<string, string>();
  const visit = (name: string): void => {
    const type = `${FOXGLOVE_MSGS}/${name}`;
    if (out.has(type)) return;
    const schema = standardSchema(name);
    if (schema === undefined) throw new Error(`no Foxglove schema ${name} in @foxglove/schemas`);
    out.set(type, schemas.generateRosMsg(schemas.generateRosMsgDefinition(schema, { rosVersion: 2 }), { rosVersion: 2 }));
    for (const field of schema.fields) {
      if (field.type.type !== "nested") continue;
      const nested = field.type.schema;
      if (!isBuiltin(nested) && nested.rosEquivalent === undefined) visit(nested.name);
    }
  };
  for (const root of FOXGLOVE_ROOTS) visit(root);
  texts = out;
  return out;
}
