/**
 * Typed errors of the message layer. A stage that handles untrusted bytes catches these (and
 * only these) to count and skip a bad message; anything else escaping the layer is a bug.
 */
import { UnknownMessageTypeError } from "./catalogue.js";

export { UnknownMessageTypeError };

/** A CDR buffer that cannot be decoded as `type`: truncated, a length past the end, an unsupported encapsulation. */
export class MessageDecodeError extends Error {
  constructor(
    /** The message type being decoded (`pkg/Type`). */
    readonly type: string,
    /** Byte offset into the buffer (encapsulation header included) where decoding failed. */
    readonly offset: number,
    /** What was wrong there, e.g. "string length 2147483648 exceeds the 12 bytes left". */
    readonly reason: string,
  ) {
    super(`cannot decode ${type} at byte ${offset}: ${reason}`);
    this.name = "MessageDecodeError";
  }
}

/** readStamp/readFrameId on a type whose first field is not a std_msgs/Header. */
export class NoHeaderError extends Error {
  constructor(readonly type: string) {
    super(`message type '${type}' has no std_msgs/Header as its first field: no header.stamp to read`);
    this.name = "NoHeaderError";
  }
}

/** Encapsulation kinds (second byte of the 4-byte CDR header) the layer reads: plain CDR and plain XCDR2. */
export const ENCAPSULATION_NAMES: Readonly<Record<number, string>> = {
  0x00: "CDR_BE",
  0x01: "CDR_LE",
  0x02: "PL_CDR_BE",
  0x03: "PL_CDR_LE",
  0x06: "RTPS_CDR2_BE",
  0x07: "RTPS_CDR2_LE",
  0x08: "RTPS_DELIMITED_CDR2_BE",
  0x09: "RTPS_DELIMITED_CDR2_LE",
  0x0a: "RTPS_PL_CDR2_BE",
  0x0b: "RTPS_PL_CDR2_LE",
  0x10: "CDR2_BE",
  0x11: "CDR2_LE",
  0x12: "PL_CDR2_BE",
  0x13: "PL_CDR2_LE",
  0x14: "DELIMITED_CDR2_BE",
  0x15: "DELIMITED_CDR2_LE",
};

/**
 * Checks the 4-byte encapsulation header; returns 1 for little-endian plain CDR/XCDR2, 0 for
 * big-endian, 3/2 for their XCDR2 forms (bit 1: 8-byte values aligned to 4), or throws.
 * Parameter-list and delimited forms carry member/delimiter headers the ROS 2 layout lacks.
 */
export function encapsulation(type: string, data: Uint8Array): number {
  if (data.length < 4) throw new MessageDecodeError(type, data.length, `buffer of ${data.length} bytes has no 4-byte CDR encapsulation header`);
  const kind = data[1]!;
  if (data[0] !== 0) throw new MessageDecodeError(type, 0, `encapsulation header starts with 0x${hex(data[0]!)}, expected 0x00`);
  switch (kind) {
    case 0x00:
      return 0;
    case 0x01:
      return 1;
    case 0x06:
    case 0x10:
      return 2;
    case 0x07:
    case 0x11:
      return 3;
    default: {
      const name = ENCAPSULATION_NAMES[kind];
      throw new MessageDecodeError(type, 1, `unsupported encapsulation ${name ?? "kind"} (0x${hex(kind)}): only plain CDR/XCDR2 (ROS 2) is read`);
    }
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/** Whether an error is one of the layer's typed refusals of a message (count and skip it), as opposed to a bug. */
export function isMessageError(error: unknown): error is MessageDecodeError | NoHeaderError | UnknownMessageTypeError {
  return error instanceof MessageDecodeError || error instanceof NoHeaderError || error instanceof UnknownMessageTypeError;
}
