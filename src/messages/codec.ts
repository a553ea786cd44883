/**
 * CDR encode/decode for any catalogue type, via @foxglove/rosmsg2-serialization.
 * Readers and writers are built once per type and cached.
 */
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { defaultCatalogue, normalizeTypeName, type MessageCatalogue } from "./catalogue.js";

export class MessageCodec {
  readonly #readers = new Map<string, MessageReader>();
  readonly #writers = new Map<string, MessageWriter>();
  constructor(readonly catalogue: MessageCatalogue) {}

  encode(type: string, message: unknown): Uint8Array {
    const name = normalizeTypeName(type);
    let writer = this.#writers.get(name);
    if (writer === undefined) {
      writer = new MessageWriter(this.catalogue.closure(name));
      this.#writers.set(name, writer);
    }
    return writer.writeMessage(message);
  }

  decode<T = unknown>(type: string, data: Uint8Array): T {
    const name = normalizeTypeName(type);
    let reader = this.#readers.get(name);
    if (reader === undefined) {
      reader = new MessageReader(this.catalogue.closure(name));
      this.#readers.set(name, reader);
    }
    return reader.readMessage<T>(data);
  }
}

let codec: MessageCodec | undefined;
/** Codec over the standard catalogue. */
export function defaultCodec(): MessageCodec {
  codec ??= new MessageCodec(defaultCatalogue());
  return codec;
}
