import assert from "node:assert/strict";
import { ErrorSummary, TopicTimes } from "../../src/convert/bounded-stats.js";
import { rateAndDrops } from "../../src/convert/copy-converter.js";
import { uniformSource } from "../clock/stamp-series.js";

describe("convert: report figures in bounded memory", () => {
  it("TopicTimes: the rate and drops rateAndDrops finds over the whole list", () => {
    const u = uniformSource(5);
    for (const [rateHz, dropRate] of [[100, 0.03], [10, 0.1], [200, 0]] as const) {
      const times: bigint[] = [];
      const streamed = new TopicTimes();
      for (let i = 0; i < 5000; i++) {
        if (u() < dropRate) continue;
        const t = 1_700_000_000_000_000_000n + BigInt(Math.round((i / rateHz + u() * 0.0002) * 1e9));
        times.push(t);
        streamed.add(t);
      }
      const whole = rateAndDrops(times);
      const result = streamed.result();
      assert.equal(streamed.count, times.length);
      assert.ok(Math.abs(result.rateHz - whole.rateHz) < 1e-9, `${rateHz} Hz: ${result.rateHz} vs ${whole.rateHz}`);
      assert.equal(result.drops, whole.drops, `${rateHz} Hz drops`);
    }
  });

  it("ErrorSummary: p50 / p99 within 1.2 % of the exact ones, exact max, ≤ 300 plotted points in time order", () => {
    const u = uniformSource(8);
    const summary = new ErrorSummary();
    const errors: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const e = -0.001 * Math.log(1 - u()) * (u() < 0.01 ? 50 : 1);
      errors.push(e);
      summary.add(i * 0.01, u() < 0.5 ? e : -e);
    }
    errors.sort((a, b) => a - b);
    const report = summary.report();
    const exact = (q: number): number => errors[Math.floor(q * errors.length)]!;
    assert.ok(Math.abs(report.p50 / exact(0.5) - 1) < 0.012, `p50 ${report.p50} vs ${exact(0.5)}`);
    assert.ok(Math.abs(report.p99 / exact(0.99) - 1) < 0.012, `p99 ${report.p99} vs ${exact(0.99)}`);
    assert.equal(report.max, errors[errors.length - 1]);
    assert.ok(report.series.length > 250 && report.series.length <= 300, `${report.series.length} points`);
    for (let i = 1; i < report.series.length; i++) assert.ok(report.series[i]![0] > report.series[i - 1]![0]);
  });
});
