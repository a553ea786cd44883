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

/** What the ROS arguments of a node's command line say about its parameters and name. */
export interface RosArgumentParameters {
  /** `--params-file` files and `-p name:=value` overrides, in command-line order (later wins). */
  sources: ({ kind: "file"; path: string } | { kind: "override"; name: string; value: unknown })[];
  /** `-r __node:=name` / `-r __ns:=/ns` (launch files rename nodes this way). */
  nodeName?: string;
  namespace?: string;
}

/**
 * Reads the ROS arguments (`--ros-args … [--]`, possibly several sections) the way rcl does:
 * every `--params-file` and `-p`/`--param`, in order; `-p` values are YAML, as rcl parses them.
 * Used where ROS does not parse them for syncbag (the in-process transport).
 */
export function parseRosArguments(args: readonly string[]): RosArgumentParameters {
  const out: RosArgumentParameters = { sources: [] };
  let inRos = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--ros-args") {
      inRos = true;
      continue;
    }
    if (!inRos) continue;
    if (arg === "--") {
      inRos = false;
      continue;
    }
    const next = (): string => {
      const value = args[++i];
      if (value === undefined) throw new ParamsFileError(`ROS argument ${arg} needs a value`);
      return value;
    };
    if (arg === "--params-file") out.sources.push({ kind: "file", path: next() });
    else if (arg === "-p" || arg === "--param") {
      const text = next();
      const sep = text.indexOf(":=");
      if (sep <= 0) throw new ParamsFileError(`ROS argument ${arg} ${text}: expected name:=value`);
      const raw = text.slice(sep + 2);
      let value: unknown;
      try {
        value = parse(raw);
      } catch {
        value = raw;
      }
      out.sources.push({ kind: "override", name: text.slice(0, sep), value });
    } else if (arg === "-r" || arg === "--remap") {
      const rule = next();
      const sep = rule.indexOf(":=");
      const from = sep < 0 ? rule : rule.slice(0, sep);
      const to = sep < 0 ? "" : rule.slice(sep + 2);
      if (from === "__node" || from === "__name") out.nodeName = to;
      else if (from === "__ns") out.namespace = to;
    } else if (arg === "--log-level" || arg === "-e" || arg === "--enclave" || arg === "--log-config-file") i++;
  }
  return out;
}

/** Applies the sources in order onto one nested map (a `-p a.b:=1` override sets `a.b`). */
export async function readRosParameterSources(args: RosArgumentParameters, nodeName: string, namespace = "/"): Promise<Record<string, unknown>> {
  const merged: Record<string, unknown> = {};
  for (const source of args.sources) {
    if (source.kind === "file") deepMerge(merged, await readParamsFile(source.path, nodeName, namespace));
    else {
      const keys = source.name.split(".");
      let target = merged;
      for (const key of keys.slice(0, -1)) {
        const child = target[key];
        if (child === null || typeof child !== "object" || Array.isArray(child)) target[key] = {};
        target = target[key] as Record<string, unknown>;
      }
      target[keys[keys.length - 1]!] = source.value;
    }
  }
  return merged;
}
