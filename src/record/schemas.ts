/**
 * Where the recorder gets a channel's schema: ros2msg text (the full concatenated definition,
 * as rosbag2 writes it) for CDR types — syncbag's own, the common ROS 2 ones and the foxglove_msgs
 * overlays alike, so every channel a node records is CDR and `ros2 bag play` accepts the file.
 */
import type { OutboundMessage } from "../messages/outbound.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot, schemaText } from "../messages/catalogue.js";
import type { SchemaInput } from "./mcap-writer.js";

/** Schema for a type and message encoding, or undefined if unknown (recorded schemaless). */
export type SchemaProvider = (schemaName: string, encoding: OutboundMessage["encoding"]) => SchemaInput | undefined;

const textEncoder = new TextEncoder();

/** The default provider: the messages catalogue's `schemaText(type)` for CDR (or `rosSchemaText`). */
export function defaultSchemaProvider(rosSchemaText?: (type: string) => string | undefined): SchemaProvider {
  return (schemaName, encoding) => {
    if (encoding !== "cdr") return undefined;
    let text: string | undefined;
    try {
      text = rosSchemaText !== undefined ? rosSchemaText(schemaName) : schemaText(schemaName);
    } catch {
      text = undefined; // unknown type: recorded without schema, counted in stats().schemaless
    }
    return text === undefined ? undefined : { name: schemaName, encoding: "ros2msg", data: textEncoder.encode(text) };
  };
}

let version: string | undefined;
/** syncbag's version from package.json. */
export function softwareVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
  return version;
}
