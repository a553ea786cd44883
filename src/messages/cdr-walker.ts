/**
 * A CDR layout walker compiled once per type: it follows a buffer the way
 * @foxglove/rosmsg2-serialization's MessageReader would (same alignment rules, same handling of
 * empty arrays and empty structs) without building any value, and checks every length against
 * the bytes left. The codec runs it before decoding, so a truncated buffer or a corrupt length of
 * 2^31 becomes a MessageDecodeError naming the offset instead of a RangeError, a huge allocation,
 * a hang, or — with a subarray of a bigger ArrayBuffer — silently reading the neighbour's bytes.
 * Arrays of primitives cost O(1); only arrays of structs and strings are walked element by element.
 */
import type { MessageDefinition, MessageDefinitionField } from "@foxglove/message-definition";
import { MessageDecodeError } from "./errors.js";

/** The buffer being walked. `eight` is the alignment of 8-byte values: 8 in CDR, 4 in XCDR2. */
export interface WalkState {
  readonly type: string;
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly eight: number;
}

/** Walks one value starting at `offset`; returns the offset after it, or throws MessageDecodeError. */
export type Walk = (state: WalkState, offset: number) => number;

/** Alignment is relative to the end of the 4-byte encapsulation header. */
function align(offset: number, size: number): number {
  const misalignment = (offset - 4) % size;
  return misalignment === 0 ? offset : offset + size - misalignment;
}

function need(state: WalkState, offset: number, bytes: number, what: string): void {
  if (offset + bytes > state.bytes.length) {
    const left = Math.max(0, state.bytes.length - offset);
    throw new MessageDecodeError(state.type, offset, `${what} needs ${bytes} bytes, ${left} left (buffer of ${state.bytes.length} bytes)`);
  }
}

export function readUint32(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  return littleEndian
    ? (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0
    : ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Size and alignment of fixed-size primitives; `0` alignment means "the 8-byte alignment of the encoding". */
const PRIMITIVES: Readonly<Record<string, { size: number; align: number }>> = {
  bool: { size: 1, align: 1 },
  int8: { size: 1, align: 1 },
  uint8: { size: 1, align: 1 },
  byte: { size: 1, align: 1 },
  char: { size: 1, align: 1 },
  int16: { size: 2, align: 2 },
  uint16: { size: 2, align: 2 },
  int32: { size: 4, align: 4 },
  uint32: { size: 4, align: 4 },
  float32: { size: 4, align: 4 },
  int64: { size: 8, align: 0 },
  uint64: { size: 8, align: 0 },
  float64: { size: 8, align: 0 },
  // read as int32 + uint32
  time: { size: 8, align: 4 },
  duration: { size: 8, align: 4 },
};

/** Reads a sequence's uint32 length; refuses one whose elements (≥ minElement bytes each) cannot fit. */
function sequenceLength(state: WalkState, offset: number, minElement: number, field: string): [number, number] {
  const at = align(offset, 4);
  need(state, at, 4, `length of sequence '${field}'`);
  const count = readUint32(state.bytes, at, state.littleEndian);
  const left = state.bytes.length - (at + 4);
  if (count * minElement > left) {
    throw new MessageDecodeError(state.type, at, `sequence '${field}' claims ${count} elements of ≥ ${minElement} bytes, only ${left} bytes left`);
  }
  return [count, at + 4];
}

function walkString(state: WalkState, offset: number, field: string): number {
  const at = align(offset, 4);
  need(state, at, 4, `length of string '${field}'`);
  const length = readUint32(state.bytes, at, state.littleEndian);
  need(state, at + 4, length, `string '${field}'`);
  return at + 4 + length;
}

/** Resolves a field's complex type to its definition (undefined if unknown). */
export type Resolve = (type: string) => MessageDefinition | undefined;

/**
 * A compiled value: its walk, the fewest bytes it can take, and whether its size is fixed (no
 * string or sequence inside), so that only its start alignment decides how many bytes it spans.
 */
interface Part {
  walk: Walk;
  min: number;
  fixed: boolean;
}

/** Compiles the walk of a whole message of `definition`. */
export function compileWalk(definition: MessageDefinition, resolve: Resolve): Walk {
  const compiled = new Map<MessageDefinition, Part>();
  const compileStruct = (def: MessageDefinition, depth: number): Part => {
    const known = compiled.get(def);
    if (known !== undefined) return known;
    if (depth > 64) return fail(`definition of ${def.name ?? "?"} nests more than 64 levels`);
    const fields = def.definitions.filter((f) => f.isConstant !== true);
    let result: Part;
    if (fields.length === 0) {
      // ROS 2 serializes an empty struct as one uint8 (structure_needs_at_least_one_member).
      result = {
        min: 1,
        fixed: true,
        walk: (state, offset) => {
          need(state, offset, 1, `empty struct ${def.name ?? ""}`);
          return offset + 1;
        },
      };
    } else {
      const owner = def.name ?? "";
      const parts = fields.map((f) => compileField(f, owner, depth));
      const walks = parts.map((p) => p.walk);
      const walk: Walk = (state, offset) => {
        let at = offset;
        for (let i = 0; i < walks.length; i++) at = walks[i]!(state, at);
        return at;
      };
      const min = parts.reduce((sum, p) => sum + p.min, 0);
      const fixed = parts.every((p) => p.fixed);
      result = { min, fixed, walk: fixed && parts.length > 1 ? fixedSizeWalk(walk, min) : walk };
    }
    compiled.set(def, result);
    return result;
  };

  const compileField = (field: MessageDefinitionField, owner: string, depth: number): Part => {
    // Errors name the field with its struct, e.g. 'geometry_msgs/Quaternion.z'.
    const name = owner === "" ? field.name : `${owner}.${field.name}`;
    const fixed = field.arrayLength;
    if (field.isComplex === true) {
      const nested = resolve(field.type);
      if (nested === undefined) return fail(`field '${name}' has unknown type ${field.type}`);
      const element = compileStruct(nested, depth + 1);
      const walkElement = element.walk;
      if (field.isArray !== true) return element;
      // Each element takes at least one byte, so a claimed count is bounded by the bytes left.
      const minElement = Math.max(1, element.min);
      return {
        min: fixed === undefined ? 4 : fixed * element.min,
        fixed: fixed !== undefined && element.fixed,
        walk: (state, offset) => {
          let count = fixed ?? 0;
          let at = offset;
          if (fixed === undefined) [count, at] = sequenceLength(state, offset, minElement, name);
          else if (count * minElement > state.bytes.length - at) need(state, at, count * minElement, `array '${name}'`);
          for (let i = 0; i < count; i++) at = walkElement(state, at);
          return at;
        },
      };
    }
    if (field.type === "string") {
      if (field.isArray !== true) return { min: 4, fixed: false, walk: (state, offset) => walkString(state, offset, name) };
      return {
        min: fixed === undefined ? 4 : fixed * 4,
        fixed: false,
        walk: (state, offset) => {
          let count = fixed ?? 0;
          let at = offset;
          if (fixed === undefined) [count, at] = sequenceLength(state, offset, 4, name);
          for (let i = 0; i < count; i++) at = walkString(state, at, name);
          return at;
        },
      };
    }
    const primitive = PRIMITIVES[field.type];
    if (primitive === undefined) return fail(`field '${name}' has type ${field.type}, which ROS 2 CDR decoding does not support`);
    const { size } = primitive;
    if (field.isArray !== true) {
      return {
        min: size,
        fixed: true,
        walk: (state, offset) => {
          const at = align(offset, primitive.align === 0 ? state.eight : primitive.align);
          need(state, at, size, `${field.type} '${name}'`);
          return at + size;
        },
      };
    }
    // MessageReader aligns a primitive array only when it has elements; bool arrays not at all.
    const elementAlign = field.type === "bool" ? 1 : primitive.align;
    return {
      min: fixed === undefined ? 4 : fixed * size,
      fixed: fixed !== undefined,
      walk: (state, offset) => {
        let count = fixed ?? 0;
        let at = offset;
        if (fixed === undefined) [count, at] = sequenceLength(state, offset, size, name);
        if (count === 0) return at;
        at = align(at, elementAlign === 0 ? state.eight : elementAlign);
        need(state, at, count * size, `${field.type}[${count}] '${name}'`);
        return at + count * size;
      },
    };
  };

  return compileStruct(definition, 0).walk;
}

/**
 * The walk of a fixed-size struct (e.g. a Pose, a Vector3): its span depends only on where it
 * starts relative to the 8-byte (XCDR2: 4-byte) grid, so it is measured once per start position
 * and later checked with one comparison. A buffer too short for it gets the field-by-field walk,
 * which throws the precise error.
 */
function fixedSizeWalk(walk: Walk, min: number): Walk {
  // Index: eight (8 or 4) + start offset modulo eight; -1 until measured.
  const spans = new Int32Array(16).fill(-1);
  const measure = (eight: number, misalignment: number): number => {
    for (let length = 64 + 2 * min; ; length *= 2) {
      const probe: WalkState = { type: "", bytes: new Uint8Array(length), littleEndian: true, eight };
      const start = 4 + misalignment;
      try {
        return walk(probe, start) - start;
      } catch (error) {
        if (!(error instanceof MessageDecodeError) || length > 1 << 26) throw error;
      }
    }
  };
  return (state, offset) => {
    const misalignment = (offset - 4) % state.eight;
    const slot = state.eight + misalignment;
    let span = spans[slot]!;
    if (span < 0) span = spans[slot] = measure(state.eight, misalignment);
    return offset + span <= state.bytes.length ? offset + span : walk(state, offset);
  };
}

/** A field the decoder cannot handle: fails when a buffer reaches it, naming the offset. */
function fail(reason: string): Part {
  return {
    min: 0,
    fixed: false,
    walk: (state, offset) => {
      throw new MessageDecodeError(state.type, offset, reason);
    },
  };
}
