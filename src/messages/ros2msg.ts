/**
 * The ros2msg text format: one definition rendered as .msg text, and the concatenated
 * "complete message definition" that rosbag2 stores as an MCAP schema's data
 * (rosbag2 docs/message_definition_encoding.md, LocalMessageDefinitionSource::get_full_text):
 * the root type's text first, then each dependency as `\n` + 80 '=' + `\nMSG: pkg/Type\n` + its text.
 * Dependencies are visited depth-first, each type once, and — like rosbag2, which keeps them in
 * a std::set — in byte order of their names within each definition.
 */
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";

export const SCHEMA_SEPARATOR = "=".repeat(80);

/** @foxglove/rosmsg parses `builtin_interfaces/Time` fields into these primitives; the schema names the message. */
export const BUILTIN_TIME_TYPES: Readonly<Record<string, string>> = {
  time: "builtin_interfaces/Time",
  duration: "builtin_interfaces/Duration",
};

function defaultText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(defaultText).join(", ")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}

/** One field as a .msg line (type with bounds and array suffix, name, constant value or default). */
export function fieldLine(field: MessageDefinitionField): string {
  if (field.isConstant === true) {
    const value = field.valueText ?? (typeof field.value === "string" ? field.value : defaultText(field.value));
    return `${field.type} ${field.name}=${value}`;
  }
  let type = BUILTIN_TIME_TYPES[field.type] ?? field.type;
  if ((type === "string" || type === "wstring") && field.upperBound !== undefined) type += `<=${field.upperBound}`;
  if (field.isArray === true) {
    type += field.arrayLength !== undefined ? `[${field.arrayLength}]` : field.arrayUpperBound !== undefined ? `[<=${field.arrayUpperBound}]` : "[]";
  }
  const line = `${type} ${field.name}`;
  return field.defaultValue === undefined ? line : `${line} ${defaultText(field.defaultValue)}`;
}

/** A parsed definition as .msg text (comments are not in parsed definitions, so none come out). */
export function definitionText(definition: MessageDefinition): string {
  return definition.definitions.map(fieldLine).join("\n") + "\n";
}

/**
 * Names of the message types a definition refers to (complex fields, and the builtin time
 * messages behind `time`/`duration`), sorted as rosbag2 sorts them.
 */
export function dependencyNames(definition: MessageDefinition, normalize: (type: string) => string): string[] {
  const names = new Set<string>();
  for (const field of definition.definitions) {
    if (field.isConstant === true) continue;
    if (field.isComplex === true) names.add(normalize(field.type));
    else if (BUILTIN_TIME_TYPES[field.type] !== undefined) names.add(BUILTIN_TIME_TYPES[field.type]!);
  }
  return [...names].sort(byteOrder);
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the concatenation needs to know about each type. */
export interface DefinitionSource {
  /** The type's .msg text (source text with comments when known), ending with a newline. */
  text(type: string): string;
  /** The types it depends on, in the order they are appended. */
  dependencies(type: string): string[];
}

/** The complete ros2msg definition of `root` in rosbag2's layout. */
export function concatenateDefinitions(root: string, source: DefinitionSource): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  const append = (type: string, depth: number): void => {
    // rosbag2 guards its recursion the same way; ROS definitions cannot be cyclic, bad input can.
    if (depth > 50) throw new Error(`definition of '${root}' nests deeper than 50 levels`);
    parts.push(source.text(type));
    for (const dependency of source.dependencies(type)) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      parts.push(`\n${SCHEMA_SEPARATOR}\nMSG: ${dependency}\n`);
      append(dependency, depth + 1);
    }
  };
  append(root, 0);
  return parts.join("");
}

/**
 * Splits a complete ros2msg definition into `[type, text]` sections: the root (named by the
 * caller) and every `MSG: pkg/Type` section. Accepts `pkg/msg/Type` spellings, CRLF line ends and
 * separators of other lengths (older writers).
 */
export function splitConcatenated(root: string, text: string): [string, string][] {
  const sections = text.replace(/\r\n/g, "\n").split(/^={10,}[ \t]*$\n?/m);
  // Drop the newline the writer puts before each separator, so texts read back as they were written.
  const body = (i: number): string => (i < sections.length - 1 && sections[i]!.endsWith("\n") ? sections[i]!.slice(0, -1) : sections[i]!);
  const out: [string, string][] = [[root, body(0)]];
  for (let i = 1; i < sections.length; i++) {
    const match = /^[ \t]*MSG:[ \t]*(\S+)[ \t]*\n?([\s\S]*)$/.exec(body(i));
    if (match === null) throw new Error(`schema section without 'MSG: pkg/Type' line: '${sections[i]!.slice(0, 40)}'`);
    out.push([match[1]!, match[2]!]);
  }
  return out;
}
