/**
 * The README's parameter table, generated from the zod schemas that validate ROS parameters,
 * YAML files and CLI flags alike — so the documentation cannot drift from what is enforced.
 */
import { z } from "zod";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

export interface ParameterRow {
  name: string;
  type: string;
  default: string;
  description: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum !== undefined) return schema.enum.map((value) => JSON.stringify(value)).join(" \\| ");
  if (schema.anyOf !== undefined) return schema.anyOf.map(typeOf).join(" \\| ");
  if (schema.type === "array" && schema.items !== undefined) return `${typeOf(schema.items)}[]`;
  const base = Array.isArray(schema.type) ? schema.type.join(" \\| ") : (schema.type ?? "any");
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  const range = low !== undefined || high !== undefined ? ` (${low ?? "−∞"}…${high ?? "∞"})` : "";
  return base + range;
}

/** Flattens nested objects into dotted names (`record.compression`), as ROS parameters are. */
export function parameterRows(schema: z.ZodType, prefix = ""): ParameterRow[] {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const rows: ParameterRow[] = [];
  const walk = (node: JsonSchema, path: string): void => {
    if (node.type === "object" && node.properties !== undefined) {
      for (const [key, child] of Object.entries(node.properties)) walk(child, path === "" ? key : `${path}.${key}`);
      return;
    }
    rows.push({
      name: path,
      type: typeOf(node),
      default: node.default === undefined ? "—" : `\`${JSON.stringify(node.default)}\``,
      description: (node.description ?? "").replace(/\|/g, "\\|").replace(/\n/g, " "),
    });
  };
  walk(json, prefix);
  return rows;
}

export function parameterTable(schema: z.ZodType): string {
  const rows = parameterRows(schema);
  const lines = ["| parameter | type | default | description |", "| --- | --- | --- | --- |"];
  for (const row of rows) lines.push(`| \`${row.name}\` | ${row.type} | ${row.default} | ${row.description} |`);
  return lines.join("\n");
}
