/**
 * The one pipeline the live node and the batch converter share: every raw message goes
 * through the clock models and aligner, is recorded byte for byte with its corrected time,
 * and feeds the suggesters; whatever a stage emits is recorded and published.
 *
 * Stages are injected as narrow ports so the same loop runs on a transport subscription,
 * a simulator or a recording being replayed, and so each stage is testable alone.
 * Synchronous by design: ordering is the caller's (arrival order live, log-time order offline).
 */
import type { AlignedFrameData } from "../align/types.js";
import type { OutboundMessage } from "../messages/outbound.js";
import type { RawMessage } from "../transport/port.js";

export interface AlignmentPort {
  ingest(raw: RawMessage): { corrected: bigint | null; outputs: OutboundMessage[]; frames: AlignedFrameData[] };
  /** Periodic outputs, and frames whose wait for late sensors ran out. */
  tick(nowNs: bigint): { outputs: OutboundMessage[]; frames: AlignedFrameData[] };
  finish(): { outputs: OutboundMessage[]; frames: AlignedFrameData[] };
}

export interface SuggestionPort {
  onMessage(raw: RawMessage, correctedNs: bigint): OutboundMessage[];
  onFrame(frame: AlignedFrameData): OutboundMessage[];
  finish(): OutboundMessage[];
}

/** A record for the MCAP: raw input (cdr, bytes as received) or a stage's output. */
export interface RecordPort {
  write(message: OutboundMessage): void;
}

export type PublishPort = (message: OutboundMessage) => void;

export interface PipelineOptions {
  alignment: AlignmentPort;
  suggestions?: SuggestionPort;
  recorder?: RecordPort;
  /** Publishes CDR outputs on the transport (live only). */
  publish?: PublishPort;
  /** Called with every aligned frame after the suggesters saw it (reports, tests). */
  onFrame?: (frame: AlignedFrameData) => void;
}

export interface PipelineCounters {
  ingested: number;
  /** Messages whose stamp could not be read or mapped: recorded with log time as publish time. */
  uncorrected: number;
  frames: number;
  outputs: number;
  /** Stage exceptions caught so one bad message never stops the node. */
  stageErrors: number;
  lastError: string | null;
}

export class Pipeline {
  readonly #options: PipelineOptions;
  readonly #counters: PipelineCounters = { ingested: 0, uncorrected: 0, frames: 0, outputs: 0, stageErrors: 0, lastError: null };

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  get counters(): Readonly<PipelineCounters> {
    return this.#counters;
  }

  ingest(raw: RawMessage): void {
    this.#counters.ingested++;
    const { alignment, suggestions, recorder } = this.#options;
    let corrected: bigint | null = null;
    let frames: AlignedFrameData[] = [];
    try {
      const result = alignment.ingest(raw);
      corrected = result.corrected;
      frames = result.frames;
      this.#emit(result.outputs);
    } catch (error) {
      this.#fail("alignment", raw.topic, error);
    }
    if (corrected === null) this.#counters.uncorrected++;
    const publishTime = corrected ?? raw.receiveTime;
    // The input itself is recorded before anything derived from it, so a crash in a
    // suggester can never cost a sensor message.
    recorder?.write({ topic: raw.topic, schemaName: raw.type, encoding: "cdr", data: raw.data, logTime: raw.receiveTime, publishTime });
    // Suggesters also need the messages the aligner does not time (/tf_static, CameraInfo): those
    // come with their receive time.
    if (suggestions !== undefined) {
      try {
        this.#emit(suggestions.onMessage(raw, publishTime));
      } catch (error) {
        this.#fail("suggestions", raw.topic, error);
      }
    }
    this.#frames(frames);
  }

  tick(nowNs: bigint): void {
    let frames: AlignedFrameData[] = [];
    try {
      const result = this.#options.alignment.tick(nowNs);
      this.#emit(result.outputs);
      frames = result.frames;
    } catch (error) {
      this.#fail("alignment", "tick", error);
    }
    this.#frames(frames);
  }

  /** Flushes the aligner's pending frames and the suggesters' open tracks and events. */
  finish(): void {
    const result = this.#options.alignment.finish();
    this.#emit(result.outputs);
    this.#frames(result.frames);
    if (this.#options.suggestions !== undefined) this.#emit(this.#options.suggestions.finish());
  }

  #frames(frames: AlignedFrameData[]): void {
    for (const frame of frames) {
      this.#counters.frames++;
      if (this.#options.suggestions !== undefined) {
        try {
          this.#emit(this.#options.suggestions.onFrame(frame));
        } catch (error) {
          this.#fail("suggestions", `frame ${frame.sequence}`, error);
        }
      }
      this.#options.onFrame?.(frame);
    }
  }

  #emit(outputs: OutboundMessage[]): void {
    for (const output of outputs) {
      this.#counters.outputs++;
      this.#options.recorder?.write(output);
      if (output.encoding === "cdr" && output.publish !== false) this.#options.publish?.(output);
    }
  }

  #fail(stage: string, where: string, error: unknown): void {
    this.#counters.stageErrors++;
    this.#counters.lastError = `${stage} (${where}): ${error instanceof Error ? error.message : String(error)}`;
  }
}
