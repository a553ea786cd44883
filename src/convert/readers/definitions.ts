/**
 * Message definitions for a recording: the standard catalogue, then the user's --msg-path
 * folders, then what the recording itself carries (later sources win: the recording knows
 * best what it holds). Also renders ros2msg schema text for topics whose definition comes
 * from the catalogue rather than the recording.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { MessageCatalogue, normalizeTypeName } from "../../messages/catalogue.js";
import type { SourceTopic } from "./source.js";

/** The package folders under one --msg-path entry: the folder itself if it has msg/, else its children that do. */
export function msgPackages(path: string): { pkg: string; msgDir: string }[] {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new Error(`--msg-path '${path}' is not a folder`);
  if (existsSync(join(path, "msg"))) return [{ pkg: basename(path), msgDir: join(path, "msg") }];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(path, e.name, "msg")))
    .map((e) => ({ pkg: e.name, msgDir: join(path, e.name, "msg") }))
    .sort((a, b) => a.pkg.localeCompare(b.pkg));
}

/** Standard catalogue plus every .msg under the given folders. */
export function catalogueWith(msgPaths: readonly string[] = []): MessageCatalogue {
  const catalogue = MessageCatalogue.standard();
  for (const path of msgPaths) {
    for (const { pkg, msgDir } of msgPackages(path)) catalogue.addMsgFolder(msgDir, pkg);
  }
  return catalogue;
}

/** Adds a ros2msg schema as rosbag2 and MCAP store it (root text, then `MSG: pkg/Type` sections). */
export function addRos2MsgSchema(catalogue: MessageCatalogue, type: string, text: string): void {
  catalogue.addSchemaText(type, text);
}

/** ros2msg schema text of a catalogue type, with every dependency, in rosbag2's layout. */
export function ros2MsgSchemaText(catalogue: MessageCatalogue, type: string): string {
  return catalogue.schemaText(type);
}

/** Whether every type `type` depends on is known. */
export function canDecode(catalogue: MessageCatalogue, type: string): boolean {
  try {
    catalogue.closure(type);
    return true;
  } catch {
    return false;
  }
}

/** `pkg/Type` → `pkg/msg/Type` (the spelling ROS 2 recordings use for schema names). */
export function ros2SchemaName(type: string): string {
  const parts = normalizeTypeName(type).split("/");
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}

export interface TopicDescription {
  topic: string;
  /** As recorded (`pkg/msg/Type` or `pkg/Type`). */
  type: string;
  /** Message encoding (`cdr` for ROS 2). */
  encoding: string;
  /** The recording's schema for it, when it has one. */
  schema?: { name: string; encoding: string; data: Uint8Array };
  messageCount?: number;
  qos?: string;
}

/**
 * Resolves topics against a catalogue: recording schemas are added first (all of them, since one
 * topic's schema may define another's dependencies), then each cdr topic is checked for a complete
 * definition. A cdr type without one is kept (carried undecoded) and named in a warning.
 */
export function resolveTopics(
  catalogue: MessageCatalogue,
  described: readonly TopicDescription[],
  warnings: string[],
): SourceTopic[] {
  const decoder = new TextDecoder();
  for (const d of described) {
    if (d.encoding !== "cdr" || d.schema === undefined || d.schema.data.byteLength === 0) continue;
    if (d.schema.encoding === "ros2msg") {
      try {
        addRos2MsgSchema(catalogue, d.type, decoder.decode(d.schema.data));
      } catch (error) {
        warnings.push(`schema of ${d.type} (topic ${d.topic}) could not be parsed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return described.map((d) => {
    if (d.encoding !== "cdr") {
      if (d.schema === undefined || d.schema.encoding === "") warnings.push(`topic ${d.topic} has no schema (encoding '${d.encoding}'): carried as recorded`);
      return {
        topic: d.topic,
        type: d.type,
        encoding: d.encoding,
        schema: d.schema ?? { name: d.type, encoding: "", data: new Uint8Array(0) },
        decodable: false,
        ...(d.messageCount !== undefined ? { messageCount: d.messageCount } : {}),
        ...(d.qos !== undefined ? { qos: d.qos } : {}),
      };
    }
    const type = normalizeTypeName(d.type);
    const decodable = type !== "" && canDecode(catalogue, type);
    let schema = d.schema;
    if (schema === undefined || schema.data.byteLength === 0) {
      schema = decodable
        ? { name: ros2SchemaName(type), encoding: "ros2msg", data: new TextEncoder().encode(ros2MsgSchemaText(catalogue, type)) }
        : { name: ros2SchemaName(type), encoding: "", data: new Uint8Array(0) };
    }
    if (!decodable) warnings.push(`no message definition for ${type || "(unnamed type)"} (topic ${d.topic}): carried undecoded; add its package with --msg-path`);
    return {
      topic: d.topic,
      type,
      encoding: d.encoding,
      schema,
      decodable,
      ...(d.messageCount !== undefined ? { messageCount: d.messageCount } : {}),
      ...(d.qos !== undefined ? { qos: d.qos } : {}),
    };
  });
}
