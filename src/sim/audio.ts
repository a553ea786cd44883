/**
 * Microphone model: engine tone whose pitch follows engine RPM (firing frequency rpm/60 · cylinders/2,
 * with harmonics, louder with throttle), road noise growing with speed, and scripted sirens (wail:
 * slow 650–1550 Hz sweep, yelp: fast sweep) and horn (two-tone, ~440/554 Hz). Synthesised continuously
 * with phase carried across chunks, also for chunks the transport will drop, so the signal never
 * depends on delivery.
 */
import type { AudioConfig, VehicleConfig } from "./rig.js";
import type { Prng } from "./prng.js";
import type { World } from "./world.js";

export const SIREN_BAND_HZ: [number, number] = [650, 1550];
export const HORN_BAND_HZ: [number, number] = [400, 600];

export class AudioModel {
  readonly frames: number;
  readonly #cfg: AudioConfig;
  readonly #cylinders: number;
  #enginePhase = 0;
  #sirenPhase = 0;
  #hornPhase1 = 0;
  #hornPhase2 = 0;
  #noiseState = 0;

  constructor(cfg: AudioConfig, vehicle: VehicleConfig) {
    this.#cfg = cfg;
    this.#cylinders = vehicle.cylinders;
    this.frames = Math.round((cfg.sampleRate * cfg.chunkMs) / 1000);
  }

  /** Synthesises the chunk whose first sample is at world time t0; returns S16LE interleaved bytes. */
  chunk(world: World, t0: number, rng: Prng): Uint8Array {
    const { sampleRate, channels } = this.#cfg;
    const frames = this.frames;
    const dt = 1 / sampleRate;
    const out = new Int16Array(frames * channels);
    const rpm0 = world.rpm(t0);
    const rpm1 = world.rpm(t0 + frames * dt);
    const ego = world.ego(t0);
    const throttle = ego.throttle;
    const roadAmp = 0.015 + 0.004 * ego.speed;
    const engineAmp = 0.12 * (0.3 + 0.7 * throttle);
    const events = world.events.filter((e) => e.endS > t0 && e.startS < t0 + frames * dt && (e.kind === "siren_wail" || e.kind === "siren_yelp" || e.kind === "horn"));
    const firing = this.#cylinders / 2 / 60;
    const twoPi = 2 * Math.PI;
    for (let i = 0; i < frames; i++) {
      const t = t0 + i * dt;
      const rpm = rpm0 + ((rpm1 - rpm0) * i) / frames;
      this.#enginePhase += twoPi * rpm * firing * dt;
      if (this.#enginePhase > 1e6) this.#enginePhase -= twoPi * Math.floor(this.#enginePhase / twoPi);
      const ph = this.#enginePhase;
      let sample = engineAmp * (Math.sin(ph) + 0.6 * Math.sin(2 * ph) + 0.35 * Math.sin(3 * ph) + 0.2 * Math.sin(4 * ph)) / 2.15;
      // Road noise: one-pole low-passed white noise.
      this.#noiseState += 0.25 * ((rng.float() * 2 - 1) - this.#noiseState);
      sample += roadAmp * this.#noiseState * 2;
      for (const e of events) {
        if (t < e.startS || t >= e.endS) continue;
        const u = (t - e.startS) / (e.endS - e.startS);
        if (e.kind === "horn") {
          const env = Math.min(1, (t - e.startS) / 0.02, (e.endS - t) / 0.02);
          this.#hornPhase1 += twoPi * 440 * dt;
          this.#hornPhase2 += twoPi * 554 * dt;
          const s1 = Math.sin(this.#hornPhase1) + 0.3 * Math.sin(3 * this.#hornPhase1);
          const s2 = Math.sin(this.#hornPhase2) + 0.3 * Math.sin(3 * this.#hornPhase2);
          sample += 0.25 * env * (s1 + s2) / 2;
        } else {
          // An emergency vehicle approaching and passing: loudness rises and falls over the event.
          const env = Math.sin(Math.PI * u);
          const period = e.kind === "siren_wail" ? 4 : 0.33;
          const x = ((t - e.startS) / period) % 1;
          const tri = x < 0.5 ? 2 * x : 2 - 2 * x;
          const f = SIREN_BAND_HZ[0] + (SIREN_BAND_HZ[1] - SIREN_BAND_HZ[0]) * tri;
          this.#sirenPhase += twoPi * f * dt;
          sample += 0.3 * env * (Math.sin(this.#sirenPhase) + 0.2 * Math.sin(3 * this.#sirenPhase));
        }
      }
      const v = Math.max(-1, Math.min(1, sample));
      for (let c = 0; c < channels; c++) out[i * channels + c] = Math.round(v * (c === 0 ? 32000 : 30000));
    }
    if (this.#sirenPhase > 1e6) this.#sirenPhase -= twoPi * Math.floor(this.#sirenPhase / twoPi);
    return new Uint8Array(out.buffer);
  }
}
