/**
 * Every problem of a configuration that failed its zod schema, each as one line
 * `key: what was wrong (got value)`. A misspelled key is named with the key it was probably meant
 * to be (same object, smallest edit distance) and its own value, never the section around it.
 */
import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** A value as a short JSON excerpt (a section of the file would drown the line). */
export function shortValue(value: unknown, max = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** The dotted key; a list entry that carries a `name` (sensors, given as a map in params files) is shown by that name. */
function keyOf(input: unknown, path: Path): string {
  const parts: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    if (typeof key === "number") {
      const name = (valueAt(input, path.slice(0, i + 1)) as { name?: unknown } | undefined)?.name;
      parts.push(typeof name === "string" ? name : String(key));
    } else parts.push(String(key));
  }
  return parts.join(".") || "(root)";
}

interface SchemaDef {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  valueType?: unknown;
}

function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/** The object keys the schema accepts at `path`, when it can be followed there. */
function knownKeys(schema: unknown, path: Path): string[] {
  let at: unknown = schema;
  const unwrap = (): void => {
    for (let guard = 0; guard < 20; guard++) {
      const def = defOf(at);
      if (def?.innerType !== undefined) at = def.innerType;
      else if (def?.type === "pipe" && def.in !== undefined) at = def.in;
      else return;
    }
  };
  for (const key of path) {
    unwrap();
    const def = defOf(at);
    if (def?.type === "object" && typeof key === "string") at = def.shape?.[key];
    else if (def?.type === "array") at = def.element;
    else if (def?.type === "record") at = def.valueType;
    else return [];
  }
  unwrap();
  const def = defOf(at);
  return def?.type === "object" ? Object.keys(def.shape ?? {}) : [];
}

function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    row = next;
  }
  return row[y.length]!;
}

function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  // Beyond about a third of the name it is a different word, not a typo.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** One line per problem, in the order zod found them (every problem, not the first). */
export function describeConfigIssues(schema: unknown, input: unknown, issues: readonly Issue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, known.filter((k) => !issue.keys.includes(k)));
        lines.push(`${keyOf(input, [...issue.path, key])}: unknown key${guess === undefined ? "" : ` (did you mean ${guess}?)`} (got ${shortValue(valueAt(input, [...issue.path, key]))})`);
      }
    } else if (issue.code === "invalid_union" && issue.errors.length > 0) {
      // The branch that got furthest into the value says the most.
      const deepest = issue.errors.map((branch) => branch[0]).filter((e): e is Issue => e !== undefined).sort((a, b) => b.path.length - a.path.length)[0];
      const path = [...issue.path, ...(deepest?.path ?? [])];
      const value = valueAt(input, path);
      lines.push(`${keyOf(input, path)}: ${deepest?.message ?? issue.message}${value === undefined ? " (missing)" : ` (got ${shortValue(value)})`}`);
    } else {
      const value = valueAt(input, issue.path);
      lines.push(`${keyOf(input, issue.path)}: ${issue.message}${value === undefined ? " (missing)" : ` (got ${shortValue(value)})`}`);
    }
  }
  return [...new Set(lines)];
}
