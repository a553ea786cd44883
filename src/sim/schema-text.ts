/**
 * ros2msg schema text for an MCAP Schema record, as rosbag2 stores it: the type's .msg text, then
 * each dependency after a line of 80 '=' and `MSG: pkg/Type`.
 * This package's own types use their msg/*.msg files verbatim (comments included); standard types
 * are rendered from the catalogue's parsed definitions (the comments are not kept there).
 * TODO(lead): switch to the messages layer's schemaText(type) once src/messages exports one.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { defaultCatalogue, normalizeTypeName, packageRoot, PACKAGE_NAME } from "../messages/catalogue.js";

const SEPARATOR = "=".repeat(80);
const BUILTIN: Record<string, string> = {
  time: "builtin_interfaces/Time",
  duration: "builtin_interfaces/Duration",
};
const BUILTIN_TEXT: Record<string, string> = {
  "builtin_interfaces/Time": "int32 sec\nuint32 nanosec\n",
  "builtin_interfaces/Duration": "int32 sec\nuint32 nanosec\n",
};

function fieldType(field: MessageDefinitionField): string {
  const base = BUILTIN[field.type] ?? field.type;
  let bounded = base;
  if (field.upperBound !== undefined && base === "string") bounded = `string<=${field.upperBound}`;
  if (!field.isArray) return bounded;
  if (field.arrayLength !== undefined) return `${bounded}[${field.arrayLength}]`;
  if (field.arrayUpperBound !== undefined) return `${bounded}[<=${field.arrayUpperBound}]`;
  return `${bounded}[]`;
}

function renderDefinition(definition: MessageDefinition): string {
  const name = normalizeTypeName(definition.name ?? "");
  if (name.startsWith(`${PACKAGE_NAME}/`)) {
    const file = join(packageRoot(), "msg", `${name.slice(PACKAGE_NAME.length + 1)}.msg`);
    if (existsSync(file)) return readFileSync(file, "utf8");
  }
  return (
    definition.definitions
      .map((f) => {
        if (f.isConstant) return `${f.type} ${f.name}=${f.valueText ?? String(f.value)}`;
        return `${fieldType(f)} ${f.name}`;
      })
      .join("\n") + "\n"
  );
}

/** The full ros2msg schema text of `pkg/Type` (with every dependency). */
export function ros2msgSchemaText(type: string): string {
  const closure = defaultCatalogue().closure(type);
  const parts = [renderDefinition(closure[0]!)];
  const builtins = new Set<string>();
  for (const definition of closure) {
    for (const f of definition.definitions) if (!f.isConstant && BUILTIN[f.type] !== undefined) builtins.add(BUILTIN[f.type]!);
  }
  for (const definition of closure.slice(1)) parts.push(`${SEPARATOR}\nMSG: ${normalizeTypeName(definition.name ?? "")}\n${renderDefinition(definition)}`);
  for (const b of [...builtins].sort()) parts.push(`${SEPARATOR}\nMSG: ${b}\n${BUILTIN_TEXT[b]!}`);
  return parts.join("");
}

/** `pkg/Type` → `pkg/msg/Type`, the spelling rosbag2 writes in metadata and schema names. */
export function rosbag2TypeName(type: string): string {
  const parts = normalizeTypeName(type).split("/");
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}
