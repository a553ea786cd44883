/** The recorder layer's public API. */
export { McapRecorder } from "./recorder.js";
export type { McapRecorderOptions, RecorderStats, RecorderState, RecorderEvents, RecorderFailure, FileClosedEvent, TopicStats } from "./recorder.js";
export { RecorderConfigSchema, parseRecorderConfig, topicFilter, RecorderConfigError } from "./config.js";
export type { RecorderConfig, RecorderConfigInput, Compression } from "./config.js";
export { recoverMcap, formatRecoverReport } from "./recover.js";
export type { RecoverReport, RecoverOptions } from "./recover.js";
export { inspectMcap, formatInspectReport, inspectReportJson } from "./inspect.js";
export type { InspectReport, TopicSummary, ClockSummary } from "./inspect.js";
export { McapFileError } from "./scan.js";
export { defaultSchemaProvider, softwareVersion } from "./schemas.js";
export type { SchemaProvider } from "./schemas.js";
export { FileSink, MemorySink } from "./sink.js";
export type { RecordSink } from "./sink.js";
export { McapFileWriter } from "./mcap-writer.js";
export { chunkCompressor, decompressChunk } from "./compression.js";
