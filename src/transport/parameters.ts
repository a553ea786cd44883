/**
 * ROS parameters from zod schemas. A component's zod object schema is the one source of truth:
 * this module derives ROS 2 ParameterDescriptors from it (dotted names for nested objects,
 * type, range, read-only, description, allowed values), checks values against them, and
 * converts between the flat dotted form ROS uses and the nested objects zod parses.
 *
 * The schema is read through `z.toJSONSchema` (zod's public introspection) rather than zod
 * internals, so descriptions (`.describe()`), `.meta({ readOnly: true })`, `.readonly()`,
 * `.min()/.max()`, `.int()`, enums and defaults all come through without private APIs.
 */
import { z } from "zod";
import type { ParameterValue } from "./port.js";

/** rcl_interfaces/msg/ParameterType, as names. */
export type ParameterKind =
  | "bool"
  | "integer"
  | "double"
  | "string"
  | "bool_array"
  | "integer_array"
  | "double_array"
  | "string_array";

/** rcl_interfaces/msg/ParameterType values, for adapters that need the numbers. */
export const PARAMETER_TYPE_IDS: Readonly<Record<ParameterKind, number>> = {
  bool: 1,
  integer: 2,
  double: 3,
  string: 4,
  bool_array: 6,
  integer_array: 7,
  double_array: 8,
  string_array: 9,
};

/** An inclusive numeric range (rcl_interfaces IntegerRange / FloatingPointRange); step 0 = any value. */
export interface ParameterRange {
  from: number;
  to: number;
  step: number;
}

/** A ROS 2 parameter descriptor, adapter-neutral. */
export interface ParameterDescriptorSpec {
  /** Dotted path, e.g. `recorder.split_size_mb`. */
  name: string;
  kind: ParameterKind;
  description: string;
  readOnly: boolean;
  range?: ParameterRange;
  /** Constraints a range cannot say (allowed values, exclusive bounds), in words. */
  additionalConstraints: string;
  /** The schema's default (a parent object's default reaches its children). */
  defaultValue?: ParameterValue;
}

/** A subtree ROS cannot describe with fixed names (records, unions, arrays of objects). */
export interface DynamicParameterSubtree {
  /** Dotted prefix; values under it arrive as `prefix.key.field` overrides. */
  prefix: string;
  reason: string;
}

export interface ParameterSchemaDescription {
  descriptors: ParameterDescriptorSpec[];
  dynamic: DynamicParameterSubtree[];
}

export interface ZodToParameterOptions {
  /** Prefix for every name (e.g. `recorder`), without a trailing dot. */
  prefix?: string;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  readOnly?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Describes every leaf of a zod object schema as a ROS parameter, and lists the subtrees that
 * can only arrive as free-form dotted overrides.
 */
export function describeParameterSchema(schema: z.ZodType, options: ZodToParameterOptions = {}): ParameterSchemaDescription {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  if (json.type !== "object" || json.properties === undefined) {
    throw new Error(`describeParameterSchema: expected a zod object schema, got JSON schema type ${JSON.stringify(json.type ?? "unknown")}`);
  }
  const out: ParameterSchemaDescription = { descriptors: [], dynamic: [] };
  walkObject(json, options.prefix ?? "", undefined, false, out);
  return out;
}

/** The ROS parameter descriptors of a zod object schema (see describeParameterSchema for the dynamic parts). */
export function zodToParameterDescriptors(schema: z.ZodType, options: ZodToParameterOptions = {}): ParameterDescriptorSpec[] {
  return describeParameterSchema(schema, options).descriptors;
}

function walkObject(json: JsonSchema, prefix: string, parentDefault: unknown, parentReadOnly: boolean, out: ParameterSchemaDescription): void {
  const defaults = isPlainObject(json.default) ? json.default : isPlainObject(parentDefault) ? parentDefault : undefined;
  for (const [key, child] of Object.entries(json.properties ?? {})) {
    const name = prefix === "" ? key : `${prefix}.${key}`;
    const inherited = defaults?.[key];
    const readOnly = parentReadOnly || child.readOnly === true;
    if (child.type === "object") {
      if (child.properties !== undefined && (child.additionalProperties === undefined || child.additionalProperties === false)) {
        walkObject(child, name, child.default ?? inherited, readOnly, out);
      } else {
        out.dynamic.push({ prefix: name, reason: "record with free keys" });
      }
      continue;
    }
    const descriptor = leafDescriptor(name, child, inherited, readOnly);
    if (typeof descriptor === "string") out.dynamic.push({ prefix: name, reason: descriptor });
    else out.descriptors.push(descriptor);
  }
}

function leafDescriptor(name: string, json: JsonSchema, inheritedDefault: unknown, readOnly: boolean): ParameterDescriptorSpec | string {
  const kind = leafKind(json);
  if (kind === null) return `type ${JSON.stringify(json.type ?? json.anyOf ?? json.oneOf ?? "any")} has no ROS parameter equivalent`;
  const constraints: string[] = [];
  const choices = json.enum ?? (json.const !== undefined ? [json.const] : undefined);
  if (choices !== undefined) constraints.push(`one of: ${choices.map((c) => String(c)).join(", ")}`);
  const numeric = kind === "integer" || kind === "double" ? json : kind === "integer_array" || kind === "double_array" ? json.items : undefined;
  const range = numeric === undefined ? undefined : numericRange(numeric, kind.startsWith("integer"), constraints);
  const descriptor: ParameterDescriptorSpec = {
    name,
    kind,
    description: json.description ?? "",
    readOnly,
    additionalConstraints: constraints.join("; "),
  };
  if (range !== undefined) descriptor.range = range;
  const fallback = json.default ?? inheritedDefault;
  if (fallback !== undefined && matchesKind(fallback, kind)) descriptor.defaultValue = fallback as ParameterValue;
  return descriptor;
}

function leafKind(json: JsonSchema): ParameterKind | null {
  switch (json.type) {
    case "boolean":
      return "bool";
    case "integer":
      return "integer";
    case "number":
      return "double";
    case "string":
      return "string";
    case "array": {
      const item = json.items === undefined ? null : leafKind(json.items);
      if (item === "bool" || item === "integer" || item === "double" || item === "string") return `${item}_array`;
      return null;
    }
    default:
      return null;
  }
}

function numericRange(json: JsonSchema, integer: boolean, constraints: string[]): ParameterRange | undefined {
  let from = json.minimum;
  let to = json.maximum;
  // ROS ranges are inclusive: an exclusive integer bound moves by one; an exclusive float
  // bound is kept inclusive in the range and stated in words (checked exactly by zod anyway).
  if (json.exclusiveMinimum !== undefined) {
    if (integer) from = json.exclusiveMinimum + 1;
    else {
      from = json.exclusiveMinimum;
      constraints.push(`> ${json.exclusiveMinimum}`);
    }
  }
  if (json.exclusiveMaximum !== undefined) {
    if (integer) to = json.exclusiveMaximum - 1;
    else {
      to = json.exclusiveMaximum;
      constraints.push(`< ${json.exclusiveMaximum}`);
    }
  }
  const lowest = integer ? -MAX_SAFE : -Number.MAX_VALUE;
  const highest = integer ? MAX_SAFE : Number.MAX_VALUE;
  const hasFrom = from !== undefined && from > lowest;
  const hasTo = to !== undefined && to < highest;
  if (!hasFrom && !hasTo) return undefined;
  return { from: hasFrom ? (from as number) : lowest, to: hasTo ? (to as number) : highest, step: 0 };
}

function matchesKind(value: unknown, kind: ParameterKind): boolean {
  switch (kind) {
    case "bool":
      return typeof value === "boolean";
    case "integer":
      return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
    case "double":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "bool_array":
      return Array.isArray(value) && value.every((v) => typeof v === "boolean");
    case "integer_array":
      return Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isInteger(v));
    case "double_array":
      return Array.isArray(value) && value.every((v) => typeof v === "number");
    case "string_array":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
  }
}

/**
 * Checks one value against its descriptor: the message names the parameter, the value and
 * what was expected, or is null when the value fits.
 */
export function checkParameter(descriptor: ParameterDescriptorSpec, value: ParameterValue): string | null {
  const shown = typeof value === "bigint" ? `${value}` : JSON.stringify(value);
  if (!matchesKind(value, descriptor.kind)) {
    const what = descriptor.kind.replace("_", " ");
    return `parameter ${descriptor.name}: value ${shown} is not ${/^[aeiou]/.test(what) ? "an" : "a"} ${what}`;
  }
  const range = descriptor.range;
  if (range !== undefined) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const n = typeof v === "bigint" ? Number(v) : (v as number);
      if (n < range.from || n > range.to) {
        return `parameter ${descriptor.name}: value ${shown} is outside the range [${range.from}, ${range.to}]`;
      }
    }
  }
  return null;
}

/**
 * Flat parameters as ROS holds them: defaults from the descriptors overlaid with the given
 * values (values under no descriptor are kept: they fill dynamic subtrees). Throws one error
 * listing every value that does not fit its descriptor.
 */
export function resolveParameters(
  descriptors: readonly ParameterDescriptorSpec[],
  given: Readonly<Record<string, ParameterValue>>,
): Record<string, ParameterValue> {
  const out: Record<string, ParameterValue> = {};
  const problems: string[] = [];
  const byName = new Map(descriptors.map((d) => [d.name, d]));
  for (const d of descriptors) if (d.defaultValue !== undefined) out[d.name] = d.defaultValue;
  for (const [name, value] of Object.entries(given)) {
    const d = byName.get(name);
    const problem = d === undefined ? null : checkParameter(d, value);
    if (problem !== null) problems.push(problem);
    else out[name] = value;
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return out;
}

/** `{ a: { b: 1 } }` → `{ "a.b": 1 }`; arrays of primitives stay values. */
export function flattenParameters(value: Record<string, unknown>, prefix = ""): Record<string, ParameterValue> {
  const out: Record<string, ParameterValue> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = prefix === "" ? key : `${prefix}.${key}`;
    if (isPlainObject(v)) Object.assign(out, flattenParameters(v, name));
    else if (isParameterValue(v)) out[name] = v;
    else throw new Error(`parameter ${name}: value ${JSON.stringify(v)} is not a ROS parameter value (bool, number, string or an array of one of them)`);
  }
  return out;
}

/** `{ "a.b": 1 }` → `{ a: { b: 1 } }`, ready for a zod object schema. */
export function unflattenParameters(flat: Readonly<Record<string, ParameterValue>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flat)) {
    const path = name.split(".");
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (isPlainObject(next)) node = next;
      else {
        const created: Record<string, unknown> = {};
        node[key] = created;
        node = created;
      }
    }
    node[path[path.length - 1] as string] = value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isParameterValue(v: unknown): v is ParameterValue {
  if (typeof v === "boolean" || typeof v === "number" || typeof v === "string" || typeof v === "bigint") return true;
  if (!Array.isArray(v)) return false;
  return v.every((x) => typeof x === "boolean") || v.every((x) => typeof x === "number") || v.every((x) => typeof x === "string");
}

/**
 * A Markdown table of parameters (for the README): name, type, default, allowed values or
 * range, read-only, description; dynamic subtrees are listed after, as `prefix.*`.
 */
export function formatParameterTable(description: ParameterSchemaDescription): string {
  const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const show = (value: ParameterValue | undefined): string =>
    value === undefined ? "—" : `\`${typeof value === "bigint" ? value.toString() : JSON.stringify(value)}\``;
  const rows = ["| parameter | type | default | constraints | read-only | description |", "| --- | --- | --- | --- | --- | --- |"];
  for (const d of description.descriptors) {
    const range = d.range === undefined ? [] : [`${rangeEnd(d.range.from)} … ${rangeEnd(d.range.to)}`];
    const constraints = [...range, ...(d.additionalConstraints === "" ? [] : [d.additionalConstraints])].join("; ");
    rows.push(`| \`${d.name}\` | ${d.kind} | ${cell(show(d.defaultValue))} | ${cell(constraints || "—")} | ${d.readOnly ? "yes" : "no"} | ${cell(d.description || "—")} |`);
  }
  for (const d of description.dynamic) rows.push(`| \`${d.prefix}.*\` | dotted overrides | — | ${cell(d.reason)} | no | — |`);
  return rows.join("\n");
}

function rangeEnd(n: number): string {
  if (n === Number.MAX_VALUE || n === MAX_SAFE) return "∞";
  if (n === -Number.MAX_VALUE || n === -MAX_SAFE) return "−∞";
  return String(n);
}
