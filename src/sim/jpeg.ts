/**
 * A small baseline JPEG encoder (JFIF, YCbCr 4:2:0, standard Annex K quantisation and Huffman tables)
 * tuned for rendered images: a 16×16 macroblock of one flat colour — most of a rasterised frame —
 * is coded from its DC terms alone without a DCT. jpeg-js spends ~25 ms and much garbage on a
 * 640×360 frame; this needs a few ms, which is what lets the default rig run above real time.
 * Output decodes with any JPEG decoder (checked against jpeg-js in test/sim).
 */

const ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63];
const LUMA_Q = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99];
const CHROMA_Q = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, ...new Array<number>(32).fill(99)];
const DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALUES = hex(
  "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa",
);
const AC_CHROMA_BITS = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALUES = hex(
  "000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa",
);
const AAN = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

function hex(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i += 2) out.push(parseInt(s.slice(i, i + 2), 16));
  return out;
}

interface Huffman {
  code: Uint16Array;
  size: Uint8Array;
}

function huffman(bits: readonly number[], values: readonly number[]): Huffman {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) {
      code[values[k]!] = c;
      size[values[k]!] = len;
      c++;
      k++;
    }
    c <<= 1;
  }
  return { code, size };
}

const HUFF = {
  dcY: huffman(DC_LUMA_BITS, DC_VALUES),
  dcC: huffman(DC_CHROMA_BITS, DC_VALUES),
  acY: huffman(AC_LUMA_BITS, AC_LUMA_VALUES),
  acC: huffman(AC_CHROMA_BITS, AC_CHROMA_VALUES),
};

function scaledQuant(base: readonly number[], quality: number): number[] {
  const q = Math.max(1, Math.min(100, quality));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  return base.map((v) => Math.max(1, Math.min(255, Math.floor((v * scale + 50) / 100))));
}

class BitWriter {
  buf: Uint8Array;
  pos = 0;
  #acc = 0;
  #n = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  #ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  bytes(data: readonly number[]): void {
    this.#ensure(data.length);
    for (const b of data) this.buf[this.pos++] = b;
  }
  bits(value: number, count: number): void {
    this.#acc = (this.#acc << count) | (value & ((1 << count) - 1));
    this.#n += count;
    this.#ensure(8);
    while (this.#n >= 8) {
      const byte = (this.#acc >>> (this.#n - 8)) & 0xff;
      this.buf[this.pos++] = byte;
      if (byte === 0xff) this.buf[this.pos++] = 0;
      this.#n -= 8;
    }
    this.#acc &= (1 << this.#n) - 1;
  }
  flush(): void {
    if (this.#n > 0) this.bits(0x7f, 8 - this.#n);
  }
}

function category(v: number): number {
  let a = v < 0 ? -v : v;
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

export class JpegEncoder {
  readonly #qY: number[];
  readonly #qC: number[];
  /** Per natural index: 1/(Q·AAN scale·8). */
  readonly #fY = new Float64Array(64);
  readonly #fC = new Float64Array(64);
  readonly #block = new Float64Array(64);
  readonly #quant = new Int32Array(64);

  constructor(quality = 80) {
    this.#qY = scaledQuant(LUMA_Q, quality);
    this.#qC = scaledQuant(CHROMA_Q, quality);
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        const i = r * 8 + c;
        this.#fY[i] = 1 / (this.#qY[i]! * AAN[r]! * AAN[c]! * 8);
        this.#fC[i] = 1 / (this.#qC[i]! * AAN[r]! * AAN[c]! * 8);
      }
    }
  }

  /** Encodes RGBA pixels (4 bytes per pixel, alpha ignored). */
  encode(rgba: Uint8Array, width: number, height: number): Uint8Array {
    const w = new BitWriter(64 * 1024 + ((width * height) >> 2));
    this.#headers(w, width, height);
    const px = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height);
    const Y = new Float64Array(256);
    const Cb = new Float64Array(64);
    const Cr = new Float64Array(64);
    let dcY = 0;
    let dcCb = 0;
    let dcCr = 0;
    for (let my = 0; my < height; my += 16) {
      for (let mx = 0; mx < width; mx += 16) {
        // Uniform macroblock? (edges replicate the last row/column, as the full path does)
        const first = px[my * width + mx]!;
        let uniform = true;
        for (let y = 0; y < 16 && uniform; y++) {
          const row = Math.min(height - 1, my + y) * width;
          for (let x = 0; x < 16; x++) {
            if (px[row + Math.min(width - 1, mx + x)] !== first) {
              uniform = false;
              break;
            }
          }
        }
        if (uniform) {
          const r = first & 0xff;
          const g = (first >>> 8) & 0xff;
          const b = (first >>> 16) & 0xff;
          const yv = 0.299 * r + 0.587 * g + 0.114 * b - 128;
          const cb = -0.168736 * r - 0.331264 * g + 0.5 * b;
          const cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
          const qy = Math.round(64 * yv * this.#fY[0]!);
          for (let k = 0; k < 4; k++) {
            this.#dcOnly(w, qy - dcY, HUFF.dcY, HUFF.acY);
            dcY = qy;
          }
          const qcb = Math.round(64 * cb * this.#fC[0]!);
          this.#dcOnly(w, qcb - dcCb, HUFF.dcC, HUFF.acC);
          dcCb = qcb;
          const qcr = Math.round(64 * cr * this.#fC[0]!);
          this.#dcOnly(w, qcr - dcCr, HUFF.dcC, HUFF.acC);
          dcCr = qcr;
          continue;
        }
        Cb.fill(0);
        Cr.fill(0);
        for (let y = 0; y < 16; y++) {
          const row = Math.min(height - 1, my + y) * width;
          for (let x = 0; x < 16; x++) {
            const p = px[row + Math.min(width - 1, mx + x)]!;
            const r = p & 0xff;
            const g = (p >>> 8) & 0xff;
            const b = (p >>> 16) & 0xff;
            Y[y * 16 + x] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
            const ci = (y >> 1) * 8 + (x >> 1);
            Cb[ci] += 0.25 * (-0.168736 * r - 0.331264 * g + 0.5 * b);
            Cr[ci] += 0.25 * (0.5 * r - 0.418688 * g - 0.081312 * b);
          }
        }
        const blk = this.#block;
        for (let k = 0; k < 4; k++) {
          const ox = (k & 1) * 8;
          const oy = (k >> 1) * 8;
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) blk[y * 8 + x] = Y[(oy + y) * 16 + ox + x]!;
          dcY = this.#block8(w, dcY, this.#fY, HUFF.dcY, HUFF.acY);
        }
        blk.set(Cb);
        dcCb = this.#block8(w, dcCb, this.#fC, HUFF.dcC, HUFF.acC);
        blk.set(Cr);
        dcCr = this.#block8(w, dcCr, this.#fC, HUFF.dcC, HUFF.acC);
      }
    }
    w.flush();
    w.bytes([0xff, 0xd9]);
    return w.buf.slice(0, w.pos);
  }

  #dcOnly(w: BitWriter, diff: number, dc: Huffman, ac: Huffman): void {
    const cat = category(diff);
    w.bits(dc.code[cat]!, dc.size[cat]!);
    if (cat > 0) w.bits(diff < 0 ? diff - 1 : diff, cat);
    w.bits(ac.code[0]!, ac.size[0]!);
  }

  /** Forward DCT (AAN), quantise, entropy-code the block in #block; returns its quantised DC. */
  #block8(w: BitWriter, prevDc: number, f: Float64Array, dc: Huffman, ac: Huffman): number {
    const d = this.#block;
    for (let pass = 0; pass < 2; pass++) {
      const step = pass === 0 ? 1 : 8;
      const stride = pass === 0 ? 8 : 1;
      for (let i = 0; i < 8; i++) {
        const o = i * stride;
        const d0 = d[o]!, d1 = d[o + step]!, d2 = d[o + 2 * step]!, d3 = d[o + 3 * step]!;
        const d4 = d[o + 4 * step]!, d5 = d[o + 5 * step]!, d6 = d[o + 6 * step]!, d7 = d[o + 7 * step]!;
        const t0 = d0 + d7, t7 = d0 - d7, t1 = d1 + d6, t6 = d1 - d6, t2 = d2 + d5, t5 = d2 - d5, t3 = d3 + d4, t4 = d3 - d4;
        let t10 = t0 + t3;
        const t13 = t0 - t3;
        let t11 = t1 + t2;
        let t12 = t1 - t2;
        d[o] = t10 + t11;
        d[o + 4 * step] = t10 - t11;
        const z1 = (t12 + t13) * 0.707106781;
        d[o + 2 * step] = t13 + z1;
        d[o + 6 * step] = t13 - z1;
        t10 = t4 + t5;
        t11 = t5 + t6;
        t12 = t6 + t7;
        const z5 = (t10 - t12) * 0.382683433;
        const z2 = 0.5411961 * t10 + z5;
        const z4 = 1.306562965 * t12 + z5;
        const z3 = t11 * 0.707106781;
        const z11 = t7 + z3;
        const z13 = t7 - z3;
        d[o + 5 * step] = z13 + z2;
        d[o + 3 * step] = z13 - z2;
        d[o + step] = z11 + z4;
        d[o + 7 * step] = z11 - z4;
      }
    }
    const q = this.#quant;
    for (let k = 0; k < 64; k++) {
      const n = ZIGZAG[k]!;
      q[k] = Math.round(d[n]! * f[n]!);
    }
    const diff = q[0]! - prevDc;
    const cat = category(diff);
    w.bits(dc.code[cat]!, dc.size[cat]!);
    if (cat > 0) w.bits(diff < 0 ? diff - 1 : diff, cat);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = q[k]!;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        w.bits(ac.code[0xf0]!, ac.size[0xf0]!);
        run -= 16;
      }
      const c = category(v);
      const sym = (run << 4) | c;
      w.bits(ac.code[sym]!, ac.size[sym]!);
      w.bits(v < 0 ? v - 1 : v, c);
      run = 0;
    }
    if (run > 0) w.bits(ac.code[0]!, ac.size[0]!);
    return q[0]!;
  }

  #headers(w: BitWriter, width: number, height: number): void {
    w.bytes([0xff, 0xd8]);
    w.bytes([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
    const dqt = (id: number, table: number[]): void => w.bytes([0xff, 0xdb, 0, 67, id, ...ZIGZAG.map((n) => table[n]!)]);
    dqt(0, this.#qY);
    dqt(1, this.#qC);
    w.bytes([0xff, 0xc0, 0, 17, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    const dht = (cls: number, id: number, bits: number[], values: number[]): void => {
      const len = 3 + 16 + values.length;
      w.bytes([0xff, 0xc4, len >> 8, len & 0xff, (cls << 4) | id, ...bits, ...values]);
    };
    dht(0, 0, DC_LUMA_BITS, DC_VALUES);
    dht(1, 0, AC_LUMA_BITS, AC_LUMA_VALUES);
    dht(0, 1, DC_CHROMA_BITS, DC_VALUES);
    dht(1, 1, AC_CHROMA_BITS, AC_CHROMA_VALUES);
    w.bytes([0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
  }
}
