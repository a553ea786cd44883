/**
 * In-place reader of `header.stamp` and `header.frame_id` from raw CDR bytes, for every message
 * on the hot path (the aligner needs only the stamp). For a type whose first field is a
 * std_msgs/Header, the header sits right after the 4-byte encapsulation header, and its layout
 * is the same in CDR and XCDR2 (only 4-byte alignment is involved):
 *
 *   bytes 4..7  stamp.sec (int32)   8..11 stamp.nanosec (uint32)
 *   12..15 frame_id length n (uint32, includes the NUL)   16..16+n-1 frame_id bytes
 *
 * So a per-type check, done once and cached, is the whole "compiled reader": a read is a Map
 * lookup, the encapsulation check and eight byte loads, with no object allocated except the result.
 */
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { defaultCatalogue, normalizeTypeName, type MessageCatalogue } from "./catalogue.js";
import { readUint32 } from "./cdr-walker.js";
import { encapsulation, MessageDecodeError, NoHeaderError } from "./errors.js";

const NS_PER_S = 1_000_000_000n;
const HEADER = "std_msgs/Header";

/** A stamp as its two CDR fields, for callers that want no bigint. */
export interface StampParts {
  sec: number;
  nanosec: number;
}

/** The header reader of one type, resolved once: what a subscription keeps for its topic. */
export interface TypeStampReader {
  /** The type (`pkg/Type`). */
  readonly type: string;
  /** `header.stamp` in ns. Throws MessageDecodeError. */
  readStamp(data: Uint8Array): bigint;
  /** `header.stamp` into `out` (no allocation); returns `out`. */
  readStampInto(data: Uint8Array, out: StampParts): StampParts;
  /** `header.frame_id`. Throws MessageDecodeError. */
  readFrameId(data: Uint8Array): string;
}

export class StampReader {
  readonly #catalogue: MessageCatalogue;
  /** Per type name as the caller spells it: the normalized name if it has a header, else false. */
  readonly #layouts = new Map<string, string | false>();
  readonly #decoder = new TextDecoder();

  constructor(catalogue: MessageCatalogue) {
    this.#catalogue = catalogue;
  }

  /** Whether messages of `type` carry a std_msgs/Header first (UnknownMessageTypeError if unknown). */
  hasHeader(type: string): boolean {
    return this.#layout(type) !== false;
  }

  /**
   * The reader of one type, checked now: throws NoHeaderError (or UnknownMessageTypeError) here,
   * once, rather than on every message.
   */
  forType(type: string): TypeStampReader {
    const name = this.#layout(type);
    if (name === false) throw new NoHeaderError(normalizeTypeName(type));
    return {
      type: name,
      readStamp: (data) => this.readStamp(name, data),
      readStampInto: (data, out) => this.readStampInto(name, data, out),
      readFrameId: (data) => this.readFrameId(name, data),
    };
  }

  /** `header.stamp` of a CDR message of `type`, in ns. Throws NoHeaderError, MessageDecodeError, UnknownMessageTypeError. */
  readStamp(type: string, data: Uint8Array): bigint {
    const name = this.#checked(type, data, 12);
    const littleEndian = (encapsulation(name, data) & 1) === 1;
    const sec = readUint32(data, 4, littleEndian) | 0;
    const nanosec = readUint32(data, 8, littleEndian);
    return BigInt(sec) * NS_PER_S + BigInt(nanosec);
  }

  /** `header.stamp` into `out` (no allocation at all); returns `out`. */
  readStampInto(type: string, data: Uint8Array, out: StampParts): StampParts {
    const name = this.#checked(type, data, 12);
    const littleEndian = (encapsulation(name, data) & 1) === 1;
    out.sec = readUint32(data, 4, littleEndian) | 0;
    out.nanosec = readUint32(data, 8, littleEndian);
    return out;
  }

  /** `header.frame_id` of a CDR message of `type`. */
  readFrameId(type: string, data: Uint8Array): string {
    const name = this.#checked(type, data, 16);
    const littleEndian = (encapsulation(name, data) & 1) === 1;
    const length = readUint32(data, 12, littleEndian);
    if (16 + length > data.length) {
      throw new MessageDecodeError(name, 12, `header.frame_id of ${length} bytes does not fit: ${data.length - 16} bytes left`);
    }
    // As the full decoder does: the length counts a trailing NUL, which is dropped.
    return length <= 1 ? "" : this.#decoder.decode(data.subarray(16, 16 + length - 1));
  }

  #checked(type: string, data: Uint8Array, bytes: number): string {
    let name = this.#layouts.get(type);
    if (name === undefined) name = this.#layout(type);
    if (name === false) throw new NoHeaderError(normalizeTypeName(type));
    if (data.length < bytes) {
      if (data.length < 4) encapsulation(name, data); // names the missing encapsulation header
      throw new MessageDecodeError(name, data.length, `header needs ${bytes} bytes, buffer has ${data.length}`);
    }
    return name;
  }

  #layout(type: string): string | false {
    const known = this.#layouts.get(type);
    if (known !== undefined) return known;
    const name = normalizeTypeName(type);
    const definition = this.#catalogue.get(name);
    let layout: string | false = false;
    if (name === HEADER) layout = isHeader(definition, this.#catalogue) ? name : false;
    else {
      const first = firstField(definition);
      if (first?.isComplex === true && first.isArray !== true && normalizeTypeName(first.type) === HEADER) {
        layout = isHeader(this.#catalogue.get(HEADER), this.#catalogue) ? name : false;
      }
    }
    this.#layouts.set(type, layout);
    return layout;
  }
}

function firstField(definition: MessageDefinition): MessageDefinitionField | undefined {
  return definition.definitions.find((f) => f.isConstant !== true);
}

/** The header must be laid out as ROS 2's (stamp as two 32-bit fields, then a string), whoever defined it. */
function isHeader(definition: MessageDefinition, catalogue: MessageCatalogue): boolean {
  const [stamp, frameId] = definition.definitions.filter((f) => f.isConstant !== true);
  if (stamp === undefined || frameId === undefined || stamp.isArray === true || frameId.isArray === true || frameId.type !== "string") return false;
  if (stamp.type === "time") return true;
  if (stamp.isComplex !== true || !catalogue.has(stamp.type)) return false;
  const parts = catalogue.get(stamp.type).definitions.filter((f) => f.isConstant !== true);
  return parts.length === 2 && parts[0]!.type === "int32" && parts[1]!.type === "uint32" && parts.every((p) => p.isArray !== true);
}

let reader: StampReader | undefined;
/** The stamp reader over the standard catalogue. */
export function defaultStampReader(): StampReader {
  reader ??= new StampReader(defaultCatalogue());
  return reader;
}

/** `header.stamp` (ns) of a CDR message, read in place; see StampReader.readStamp. */
export function readStamp(type: string, data: Uint8Array, stamps: StampReader = defaultStampReader()): bigint {
  return stamps.readStamp(type, data);
}

/** `header.frame_id` of a CDR message, read in place; see StampReader.readFrameId. */
export function readFrameId(type: string, data: Uint8Array, stamps: StampReader = defaultStampReader()): string {
  return stamps.readFrameId(type, data);
}
