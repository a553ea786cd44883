/**
 * Evaluation of a syncbag recording against the simulator's truth, shared by `syncbag eval`
 * and `npm start`'s report. The recording is read record by record (any valid MCAP), so a
 * file cut short by a crash is still evaluated up to where it ends; every section sees each
 * message once (one pass over the file, whatever the number of sections).
 */
import { defaultCodec } from "../messages/codec.js";
import { readStamp } from "../messages/stamp.js";
import { normalizeTypeName } from "../messages/catalogue.js";
import { AlignmentEvalSection, type AlignmentSectionResult, type EvalSection, type EvalSectionOptions, type EvalSectionResult } from "../align/eval.js";
import { readMcapRecords } from "../convert/readers/mcap.js";
import { RecordingError } from "../convert/readers/source.js";
import type { TruthFile } from "../sim/truth.js";
import { SuggestionEvalSection } from "../suggest/eval-section.js";

export type { FrameSummary } from "../align/eval.js";
export type RecordingEvaluation = AlignmentSectionResult;

/**
 * Feeds every message of the MCAP at `path` to each section, then collects their results. A
 * file that turns out truncated or corrupt part-way throws, unless `onDamage` is given: then the
 * sections are scored on every message before the damage and `onDamage` is told what was wrong
 * (a file that yields no message at all still throws).
 */
export async function runEvalSections(path: string, sections: readonly EvalSection[], options: { onDamage?: (problem: RecordingError) => void } = {}): Promise<EvalSectionResult[]> {
  const channels = new Map<number, { topic: string; type: string }>();
  const schemas = new Map<number, string>();
  let messages = 0;
  try {
    for await (const record of readMcapRecords(path)) {
      if (record.type === "Schema") schemas.set(record.id, normalizeTypeName(record.name));
      else if (record.type === "Channel") channels.set(record.id, { topic: record.topic, type: schemas.get(record.schemaId) ?? "" });
      else if (record.type === "Message") {
        const channel = channels.get(record.channelId);
        if (channel === undefined) continue;
        messages++;
        const message = { topic: channel.topic, type: channel.type, data: record.data, logTimeNs: record.logTime, publishTimeNs: record.publishTime };
        for (const section of sections) section.add(message);
      }
    }
  } catch (error) {
    if (!(error instanceof RecordingError) || options.onDamage === undefined || messages === 0 || error.kind === "unreadable") throw error;
    options.onDamage(error);
  }
  return sections.map((section) => section.finish());
}

/** The alignment section built on the messages layer's stamp reader and codec. */
export function alignmentSection(truth: TruthFile, options: EvalSectionOptions = {}): AlignmentEvalSection {
  const codec = defaultCodec();
  return new AlignmentEvalSection(truth, { readStamp, decode: (type, data) => codec.decode(type, data) }, options);
}

export async function evaluateRecording(path: string, truth: TruthFile, options: { warmupS?: number } = {}): Promise<RecordingEvaluation> {
  const section = alignmentSection(truth, options);
  await runEvalSections(path, [section]);
  return section.result();
}

/** Every section `syncbag eval` and `npm start` report: alignment and label suggestions, in one pass. */
export async function evaluateAll(path: string, truth: TruthFile, options: { warmupS?: number } = {}): Promise<{ alignment: RecordingEvaluation; suggestions: EvalSectionResult }> {
  const alignment = alignmentSection(truth, options);
  const suggestions = new SuggestionEvalSection(truth, options);
  const [, suggestionResult] = await runEvalSections(path, [alignment, suggestions]);
  return { alignment: alignment.result(), suggestions: suggestionResult! };
}
