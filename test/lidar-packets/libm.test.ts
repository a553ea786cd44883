/**
 * The glibc sinf/cosf port (src/lidar-packets/libm-f32.ts). Expected values were produced by
 * glibc 2.36's sinf/cosf (x86-64) for these float32 inputs; each is one where glibc's result is
 * not the correctly rounded one (Math.fround(Math.sin(x)) differs), which is why the port exists:
 * nebula's lookup tables hold glibc's values and the reference clouds carry them.
 */
import assert from "node:assert/strict";
import { cosf, sinf } from "../../src/lidar-packets/libm-f32.js";

const bits = (u: number): number => new Float32Array(new Uint32Array([u]).buffer)[0]!;
const GLIBC: [number, number, number][] = [
  [0x3dda0a5e, 0x3dd9a0fb, 0x3f7e8cee],
  [0x3de51f0a, 0x3de4a4c3, 0x3f7e664c],
  [0x3df759d2, 0x3df6bffd, 0x3f7e2298],
  [0x3dffedf3, 0x3dff438f, 0x3f7e00f3],
  [0x3f495fec, 0x3f353d88, 0x3f34cc4c],
  [0x3f4a393f, 0x3f35d6c3, 0x3f34322f],
  [0x3f4aa031, 0x3f361f2a, 0x3f33e901],
  [0x3f4f1802, 0x3f393bde, 0x3f30b44f],
];

describe("lidar-packets: glibc sinf/cosf", function () {
  it("gives glibc's value where it is not the correctly rounded one", function () {
    let differs = 0;
    for (const [x, s, c] of GLIBC) {
      assert.equal(sinf(bits(x)), bits(s), `sinf(${bits(x)})`);
      assert.equal(cosf(bits(x)), bits(c), `cosf(${bits(x)})`);
      if (Math.fround(Math.sin(bits(x))) !== bits(s) || Math.fround(Math.cos(bits(x))) !== bits(c)) differs++;
    }
    assert.equal(differs, GLIBC.length, "each case is one where the correctly rounded value differs");
    // VLP16.yaml's ±13° laser: glibc sinf(-0.22689279913902283) = -0.224951059 (correctly rounded: -0.224951044).
    assert.equal(sinf(-0.22689279913902283), Math.fround(-0.22495105862617493));
    assert.equal(sinf(0.22689279913902283), Math.fround(0.22495105862617493));
  });

  it("stays within 1 ULP of the correctly rounded value over every quadrant (|x| < 120)", function () {
    const f = new Float32Array(2);
    const u = new Int32Array(f.buffer);
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = Math.fround(-119 + (238 * i) / 200_000);
      for (const [mine, exact] of [[sinf(x), Math.sin(x)], [cosf(x), Math.cos(x)]] as const) {
        f[0] = mine;
        f[1] = exact;
        worst = Math.max(worst, Math.abs(u[0]! - u[1]!));
      }
    }
    assert.ok(worst <= 1, `worst ${worst} ULP`);
  });
});
