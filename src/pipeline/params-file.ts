/**
 * ROS 2 params files (`--params-file`, the launch files' params_file): the `ros__parameters`
 * section for this node (`/**`, `/<ns>/<node>` or `<node>`), as plain nested values.
 */
import { readFile } from "node:fs/promises";
import { parse } from "yaml";

export class ParamsFileError extends Error {
  override name = "ParamsFileError";
}

export async function readParamsFile(path: string, nodeName: string, namespace = "/"): Promise<Record<string, unknown>> {
  let document: unknown;
  try {
    document = parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ParamsFileError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (document === null || typeof document !== "object") throw new ParamsFileError(`${path}: expected a YAML map of node names to { ros__parameters: … }`);
  const fqn = `${namespace === "/" ? "" : namespace}/${nodeName}`;
  const merged: Record<string, unknown> = {};
  // Later, more specific sections win, as in rcl: wildcard first, then the node's own.
  for (const key of ["/**", nodeName, fqn]) {
    const section = (document as Record<string, unknown>)[key];
    if (section === undefined) continue;
    const parameters = (section as { ros__parameters?: unknown } | null)?.ros__parameters;
    if (parameters === null || typeof parameters !== "object") throw new ParamsFileError(`${path}: section ${key} has no ros__parameters map`);
    deepMerge(merged, parameters as Record<string, unknown>);
  }
  return merged;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (value !== null && typeof value === "object" && !Array.isArray(value) && current !== null && typeof current === "object" && !Array.isArray(current)) {
      deepMerge(current as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = value;
  }
}
