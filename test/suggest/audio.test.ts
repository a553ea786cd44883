import assert from "node:assert/strict";
import { AudioEventDetector, fft } from "../../src/suggest/audio.js";
import type { EventSuggestion } from "../../src/suggest/types.js";

const RATE = 48_000;

/**
 * Engine (4-cylinder firing frequency following an RPM sweep, 4 harmonics, up to the horn band),
 * broadband road noise, and optional sirens/horns: [kind, start s, end s].
 */
function soundtrack(seconds: number, events: [string, number, number][], seed = 3): Float32Array {
  const out = new Float32Array(seconds * RATE);
  let state = seed, lp = 0, ph = 0, sph = 0, h1 = 0, h2 = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    const rpm = 1500 + 1800 * (0.5 + 0.5 * Math.sin(t / 7)); // 1500–3300 rpm: 4th harmonic up to 440 Hz
    ph += (2 * Math.PI * rpm * 2) / 60 / RATE;
    let x = 0.08 * (Math.sin(ph) + 0.6 * Math.sin(2 * ph) + 0.35 * Math.sin(3 * ph) + 0.2 * Math.sin(4 * ph));
    state = (state * 1664525 + 1013904223) >>> 0;
    lp += 0.25 * ((state / 2 ** 32) * 2 - 1 - lp);
    x += 0.12 * lp;
    for (const [kind, t0, t1] of events) {
      if (t < t0 || t >= t1) continue;
      if (kind === "horn") {
        h1 += (2 * Math.PI * 440) / RATE;
        h2 += (2 * Math.PI * 554) / RATE;
        x += 0.12 * (Math.sin(h1) + Math.sin(h2) + 0.3 * Math.sin(3 * h1));
      } else {
        const period = kind === "wail" ? 4 : 0.33;
        const u = ((t - t0) / period) % 1;
        const f = 650 + 900 * (u < 0.5 ? 2 * u : 2 - 2 * u);
        sph += (2 * Math.PI * f) / RATE;
        x += 0.3 * Math.sin((Math.PI * (t - t0)) / (t1 - t0)) * Math.sin(sph);
      }
    }
    out[i] = x;
  }
  return out;
}

function detect(samples: Float32Array): EventSuggestion[] {
  const d = new AudioEventDetector();
  const out: EventSuggestion[] = [];
  const chunk = RATE / 50; // 20 ms chunks as the microphone driver sends them
  for (let i = 0; i + chunk <= samples.length; i += chunk) out.push(...d.push(samples.subarray(i, i + chunk), RATE, BigInt(i) * 1_000_000_000n / BigInt(RATE)));
  return [...out, ...d.finish()];
}

describe("suggest/audio", () => {
  it("FFT agrees with a direct DFT", () => {
    const n = 256;
    const re = new Float64Array(n), im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = Math.sin(i * 0.3) + 0.5 * Math.cos(i * 1.7);
    const x = Float64Array.from(re);
    fft(re, im);
    for (const k of [0, 5, 17, 100]) {
      let r = 0, m = 0;
      for (let i = 0; i < n; i++) {
        r += x[i]! * Math.cos((2 * Math.PI * k * i) / n);
        m -= x[i]! * Math.sin((2 * Math.PI * k * i) / n);
      }
      assert.ok(Math.abs(r - re[k]!) < 1e-9 && Math.abs(m - im[k]!) < 1e-9);
    }
  });

  it("finds a wail, a yelp and a horn over engine and road noise with onset ≤ 150 ms", () => {
    const truth: [string, number, number][] = [["wail", 3, 9], ["horn", 12, 13], ["yelp", 16, 22]];
    const events = detect(soundtrack(25, truth));
    assert.equal(events.length, 3, events.map((e) => `${e.category}/${e.subtype ?? ""}@${Number(e.startNs) / 1e9}`).join(", "));
    const [wail, horn, yelp] = events as [EventSuggestion, EventSuggestion, EventSuggestion];
    assert.equal(wail.category, "siren");
    assert.equal(wail.subtype, "wail");
    assert.equal(horn.category, "horn");
    assert.equal(yelp.category, "siren");
    assert.equal(yelp.subtype, "yelp");
    for (const [i, e] of events.entries()) {
      assert.ok(Math.abs(Number(e.startNs) / 1e9 - truth[i]![1]) <= 0.15, `onset of ${e.category}: ${Number(e.startNs) / 1e9}`);
      assert.ok(Math.abs(Number(e.endNs) / 1e9 - truth[i]![2]) <= 0.4, `offset of ${e.category}: ${Number(e.endNs) / 1e9}`);
    }
  });

  it("raises no alarm on two minutes of engine tone and road noise", () => {
    assert.deepEqual(detect(soundtrack(120, [], 11)).map((e) => e.category), []);
  });
});
