/**
 * ROS 2 name rules shared by the adapters, so a topic is called the same on the embedded
 * transport as on a ROS graph (design.ros2.org "Topic and Service name mapping").
 */
import { normalizeTypeName } from "../messages/catalogue.js";

const NAME_PATTERN = /^(~\/|\/)?[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/;
const NODE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateNodeName(nodeName: string): void {
  if (!NODE_NAME_PATTERN.test(nodeName)) {
    throw new Error(`node name ${JSON.stringify(nodeName)} is invalid: expected letters, digits and underscores, not starting with a digit`);
  }
}

/** Normalises a namespace to `/` or `/a/b` (no trailing slash). */
export function normaliseNamespace(namespace: string | undefined): string {
  if (namespace === undefined || namespace === "" || namespace === "/") return "/";
  const ns = namespace.startsWith("/") ? namespace : `/${namespace}`;
  const trimmed = ns.endsWith("/") ? ns.slice(0, -1) : ns;
  if (!NAME_PATTERN.test(trimmed)) {
    throw new Error(`namespace ${JSON.stringify(namespace)} is invalid: expected /-separated tokens of letters, digits and underscores`);
  }
  return trimmed;
}

/**
 * Expands a topic or service name to its fully qualified form: `/abs` stays, `rel` goes under
 * the namespace, `~` and `~/x` under the node (`/ns/node/x`).
 */
export function expandName(name: string, nodeName: string, namespace: string): string {
  const ns = normaliseNamespace(namespace);
  const prefix = ns === "/" ? "" : ns;
  if (name === "~") return `${prefix}/${nodeName}`;
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`name ${JSON.stringify(name)} is invalid: expected /-separated tokens of letters, digits and underscores, optionally starting with / or ~/`);
  }
  if (name.startsWith("/")) return name;
  if (name.startsWith("~/")) return `${prefix}/${nodeName}/${name.slice(2)}`;
  return `${prefix}/${name}`;
}

/** `pkg/msg/Type` → `pkg/Type`, the form syncbag uses everywhere (port.ts RawMessage.type). */
export function normaliseTypeName(type: string): string {
  // The messages layer's normalisation, refusing what it would pass through unchanged.
  const normalised = normalizeTypeName(type);
  const parts = normalised.split("/");
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") return normalised;
  throw new Error(`message type ${JSON.stringify(type)} is invalid: expected pkg/Type or pkg/msg/Type`);
}

/** `pkg/Type` → `{ package, type: "msg", name }`, the interface descriptor rclnodejs accepts. */
export function splitTypeName(type: string): { package: string; type: "msg"; name: string } {
  const [pkg, name] = normaliseTypeName(type).split("/") as [string, string];
  return { package: pkg, type: "msg", name };
}

/** image_transport's layout: `<camera>/image_raw[/compressed]` has its CameraInfo on `<camera>/camera_info`. */
export function cameraInfoTopic(imageTopic: string): string {
  const base = imageTopic.replace(/\/compressed$/, "");
  return `${base.slice(0, base.lastIndexOf("/"))}/camera_info`;
}
