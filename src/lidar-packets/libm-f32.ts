/**
 * sinf/cosf as glibc (≥ 2.28) computes them on x86-64 — ARM Optimized Routines' single-precision
 * sin/cos (glibc sysdeps/ieee754/flt-32/s_sinf.c, s_cosf.c, sincosf.h, s_sincosf_data.c): the
 * float argument is widened, reduced by one multiply-subtract with π/2, and a degree-7 (sin) or
 * degree-8 (cos) polynomial is evaluated in double, then rounded to float. It is not correctly
 * rounded (≤ 0.56 ULP), so Math.fround(Math.sin(x)) differs from it for about one argument in a
 * thousand; the vendor drivers' lookup tables (nebula) are filled with glibc's sinf/cosf, and
 * reproducing their float32 coordinates exactly needs the same values. Only |x| < 120 is ported
 * (every angle a decoder uses); larger arguments fall back to the correctly rounded value.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function abstop12(x: number): number {
  f32[0] = x;
  return (u32[0]! >>> 20) & 0x7ff;
}
const HPI_INV = 0x145f306dc9c883 * 2 ** -52 * 2 ** 23; // 0x1.45F306DC9C883p+23
const HPI = 0x1921fb54442d18 * 2 ** -52; // 0x1.921FB54442D18p0
const PIO4_TOP = abstop12(0x1921fb54442d18 * 2 ** -53);
const SMALL_TOP = abstop12(2 ** -12);
const TINY_TOP = abstop12(2 ** -126);
const LIMIT_TOP = abstop12(120);
const S1 = -0x1555545995a603 * 2 ** -52 * 2 ** -3;
const S2 = 0x11107605230bc4 * 2 ** -52 * 2 ** -7;
const S3 = -0x1994eb3774cf24 * 2 ** -52 * 2 ** -13;
// Cosine polynomial; table 1 negates it (quadrants 2 and 3).
const C = [1, -0x1ffffffd0c621c * 2 ** -52 * 2 ** -2, 0x155553e1068f19 * 2 ** -52 * 2 ** -5, -0x16c087e89a359d * 2 ** -52 * 2 ** -10, 0x199343027bf8c3 * 2 ** -52 * 2 ** -16];
const SIGN = [1, -1, -1, 1];

function poly(x: number, x2: number, negate: boolean, n: number): number {
  if ((n & 1) === 0) {
    const x3 = x * x2;
    const s1 = S2 + x2 * S3;
    const x7 = x3 * x2;
    const s = x + x3 * S1;
    return Math.fround(s + x7 * s1);
  }
  const k = negate ? -1 : 1;
  const x4 = x2 * x2;
  const c2 = k * C[3]! + x2 * (k * C[4]!);
  const c1 = k * C[0]! + x2 * (k * C[1]!);
  const x6 = x4 * x2;
  const c = c1 + x4 * (k * C[2]!);
  return Math.fround(c + x6 * c2);
}

/** Quadrant of the last reduce() (a module variable rather than an object: this runs per table entry). */
let quadrant = 0;
function reduce(x: number): number {
  const n = ((x * HPI_INV) | 0) + 0x800000 >> 24;
  quadrant = n;
  return x - n * HPI;
}

/** glibc sinf of a float32 value. */
export function sinf(y: number): number {
  const x = Math.fround(y);
  const top = abstop12(x);
  if (top < PIO4_TOP) {
    if (top < SMALL_TOP) return top < TINY_TOP ? x : x;
    return poly(x, x * x, false, 0);
  }
  if (top < LIMIT_TOP) {
    const r = reduce(x), n = quadrant;
    const s = SIGN[n & 3]!;
    return poly(r * s, r * r, (n & 2) !== 0, n);
  }
  return Math.fround(Math.sin(x));
}

/** glibc cosf of a float32 value. */
export function cosf(y: number): number {
  const x = Math.fround(y);
  const top = abstop12(x);
  if (top < PIO4_TOP) {
    if (top < SMALL_TOP) return 1;
    return poly(x, x * x, false, 1);
  }
  if (top < LIMIT_TOP) {
    const r = reduce(x), n = quadrant;
    return poly(r * SIGN[n & 3]!, r * r, (n & 2) !== 0, n ^ 1);
  }
  return Math.fround(Math.cos(x));
}
