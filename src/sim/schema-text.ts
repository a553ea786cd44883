/** Type names as rosbag2 spells them; the schema text itself comes from the messages layer. */
import { normalizeTypeName } from "../messages/catalogue.js";

/** `pkg/Type` → `pkg/msg/Type`, the spelling rosbag2 writes in metadata and schema names. */
export function rosbag2TypeName(type: string): string {
  const parts = normalizeTypeName(type).split("/");
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}
