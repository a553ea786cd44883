/**
 * CDR encode/decode for any catalogue type, via @foxglove/rosmsg2-serialization.
 * Readers, writers and layout walkers are built once per type and cached (so a catalogue
 * changed after a type's first use keeps the old layout for that type: use a new codec).
 *
 * decode() takes untrusted bytes: it checks the encapsulation and walks the layout against the
 * buffer's length first (cdr-walker.ts), so it throws only UnknownMessageTypeError or
 * MessageDecodeError, and never allocates for a length the buffer cannot hold.
 */
import type { MessageDefinition } from "@foxglove/message-definition";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { defaultCatalogue, normalizeTypeName, UnknownMessageTypeError, type MessageCatalogue } from "./catalogue.js";
import { compileWalk, type Walk } from "./cdr-walker.js";
import { encapsulation, MessageDecodeError } from "./errors.js";

interface Decoder {
  name: string;
  walk: Walk;
  reader: MessageReader;
}

export class MessageCodec {
  readonly #decoders = new Map<string, Decoder>();
  readonly #writers = new Map<string, MessageWriter>();
  constructor(readonly catalogue: MessageCatalogue) {}

  encode(type: string, message: unknown): Uint8Array {
    const name = normalizeTypeName(type);
    let writer = this.#writers.get(name);
    if (writer === undefined) {
      writer = new MessageWriter(withoutConstants(this.catalogue.closure(name)));
      this.#writers.set(name, writer);
    }
    return writer.writeMessage(message);
  }

  /**
   * Checks that `data` holds a whole message of `type` (plain CDR or XCDR2, either endianness)
   * and returns the number of bytes it takes (trailing bytes are allowed, as in CDR).
   */
  validate(type: string, data: Uint8Array): number {
    const decoder = this.#decoder(type);
    return this.#walk(decoder, data);
  }

  decode<T = unknown>(type: string, data: Uint8Array): T {
    const decoder = this.#decoder(type);
    const end = this.#walk(decoder, data);
    try {
      return decoder.reader.readMessage<T>(data);
    } catch (error) {
      // The walk accepted the layout; what is left is the reader's own refusals (e.g. wstring).
      throw new MessageDecodeError(decoder.name, end, `reader refused a buffer the layout walk accepted: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #walk(decoder: Decoder, data: Uint8Array): number {
    const kind = encapsulation(decoder.name, data);
    return decoder.walk({ type: decoder.name, bytes: data, littleEndian: (kind & 1) === 1, eight: (kind & 2) === 2 ? 4 : 8 }, 4);
  }

  #decoder(type: string): Decoder {
    let decoder = this.#decoders.get(type);
    if (decoder !== undefined) return decoder;
    const name = normalizeTypeName(type);
    const closure = this.catalogue.closure(name);
    const walk = compileWalk(closure[0]!, (field) => (this.catalogue.has(field) ? this.catalogue.get(field) : undefined));
    let reader: MessageReader;
    try {
      reader = new MessageReader(withoutConstants(closure));
    } catch (error) {
      throw new UnknownMessageTypeError(name, error instanceof Error ? error.message : String(error));
    }
    decoder = { name, walk, reader };
    this.#decoders.set(type, decoder);
    return decoder;
  }
}

/**
 * rosmsg2-serialization takes a constants-only definition for an IDL constant module and would
 * pick the next definition as the root; in ROS 2 such a message is an empty struct (one byte).
 * Values never include constants, so dropping them changes nothing else.
 */
function withoutConstants(closure: MessageDefinition[]): MessageDefinition[] {
  return closure.map((d) => (d.definitions.some((f) => f.isConstant === true) ? { ...d, definitions: d.definitions.filter((f) => f.isConstant !== true) } : d));
}

let codec: MessageCodec | undefined;
/** Codec over the standard catalogue. */
export function defaultCodec(): MessageCodec {
  codec ??= new MessageCodec(defaultCatalogue());
  return codec;
}
