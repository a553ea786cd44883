/**
 * The suggester plugin interface: a model-based suggester (an ONNX detector, a learned audio
 * tagger…) plugs in here without touching the pipeline. SuggestionStage calls every registered
 * suggester with each aligned frame and/or each raw message, and merges what they return into
 * the published LabelSuggestionArray; a suggester that throws is counted and skipped, never
 * allowed to stop the node. See src/suggest/README.md.
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { AlignedFrameData } from "../align/types.js";
import type { MessageCodec } from "../messages/codec.js";
import type { RawMessage } from "../transport/port.js";
import type { Suggestion } from "./types.js";

/** What a suggester may use besides its input. */
export interface SuggesterContext {
  /** CDR codec over the standard catalogue (decode the raw messages you analyse). */
  codec: MessageCodec;
  /** Frame the 3D boxes are expressed in (base_link). */
  boxFrameId: string;
  /** The suggester's own options from the stage configuration (`plugins[].options`). */
  options: Record<string, unknown>;
  log(line: string): void;
}

export interface Suggester {
  readonly name: string;
  /** Called once per aligned frame (lidar reference): object suggestions for that frame. */
  onFrame?(frame: AlignedFrameData, ctx: SuggesterContext): Suggestion[];
  /** Called for every raw message with its corrected time (ns): event suggestions when they close. */
  onMessage?(raw: RawMessage, correctedNs: bigint, ctx: SuggesterContext): Suggestion[];
  /** End of the drive: close open events. */
  finish?(ctx: SuggesterContext): Suggestion[];
}

/** A plugin module default-exports (or exports `createSuggester`) a factory. */
export type SuggesterFactory = (options: Record<string, unknown>) => Suggester | Promise<Suggester>;

export class SuggesterRegistry {
  readonly #factories = new Map<string, SuggesterFactory>();

  register(name: string, factory: SuggesterFactory): void {
    if (this.#factories.has(name)) throw new Error(`suggester "${name}" is already registered`);
    this.#factories.set(name, factory);
  }

  has(name: string): boolean {
    return this.#factories.has(name);
  }

  names(): string[] {
    return [...this.#factories.keys()];
  }

  async create(name: string, options: Record<string, unknown> = {}): Promise<Suggester> {
    const factory = this.#factories.get(name);
    if (factory === undefined) throw new Error(`no suggester "${name}" (registered: ${this.names().join(", ") || "none"})`);
    return checkSuggester(await factory(options), name);
  }
}

/** Loads a plugin module by file path (or package name) and builds its suggester. */
export async function loadSuggester(modulePath: string, options: Record<string, unknown> = {}): Promise<Suggester> {
  const specifier = modulePath.startsWith(".") || modulePath.startsWith("/") ? pathToFileURL(resolve(modulePath)).href : modulePath;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`suggester plugin "${modulePath}": cannot import (${error instanceof Error ? error.message : String(error)})`);
  }
  const factory = mod["createSuggester"] ?? mod["default"];
  if (typeof factory !== "function") throw new Error(`suggester plugin "${modulePath}": expected a default export or createSuggester() returning a Suggester, got ${typeof factory}`);
  return checkSuggester(await (factory as SuggesterFactory)(options), modulePath);
}

function checkSuggester(value: unknown, source: string): Suggester {
  const s = value as Partial<Suggester> | null;
  if (s === null || typeof s !== "object" || typeof s.name !== "string" || s.name === "") throw new Error(`suggester plugin "${source}": the factory must return an object with a non-empty name`);
  for (const hook of ["onFrame", "onMessage", "finish"] as const) {
    if (s[hook] !== undefined && typeof s[hook] !== "function") throw new Error(`suggester plugin "${source}": ${hook} must be a function, got ${typeof s[hook]}`);
  }
  if (s.onFrame === undefined && s.onMessage === undefined) throw new Error(`suggester plugin "${source}": needs onFrame or onMessage`);
  return s as Suggester;
}
