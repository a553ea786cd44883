/**
 * The benchmark contract: each bench/<name>.bench.ts default-exports a function that measures
 * its subject and a baseline in the same run and calls report() for every figure.
 * `npm run bench [name…]` runs them one after another (never side by side: 2 cores).
 */
export interface BenchFigure {
  /** What was measured, e.g. "stamp read vs full decode, 4 MB PointCloud2". */
  name: string;
  /** The subject's figure and unit, e.g. 1234 "MB/s". */
  value: number;
  unit: string;
  /** The baseline measured in the same run, with its own unit. */
  baseline: { name: string; value: number; unit: string };
  /** subject / baseline, oriented so that larger is better, unless lowerIsBetter. */
  ratio: number;
  /** The target on the ratio or value, in words (e.g. "ratio ≥ 50"), and whether it is met. */
  target?: { text: string; met: boolean };
}

const figures: BenchFigure[] = [];

export function report(figure: BenchFigure): void {
  figures.push(figure);
  const target = figure.target ? `  target ${figure.target.text}: ${figure.target.met ? "MET" : "NOT MET"}` : "";
  console.log(
    `${figure.name}: ${fmt(figure.value)} ${figure.unit}  | baseline ${figure.baseline.name}: ${fmt(figure.baseline.value)} ${figure.baseline.unit}  | ratio ${fmt(figure.ratio)}${target}`,
  );
}

export function allFigures(): readonly BenchFigure[] {
  return figures;
}

/**
 * The closing line of `npm run bench` and its exit status: 2 (the CLI's "ran, but short of
 * target") when any figure misses its target, so CI and scripts see it, else 0.
 */
export function benchSummary(list: readonly BenchFigure[] = figures): { line: string; exitCode: number } {
  const missed = list.filter((f) => f.target && !f.target.met);
  return {
    line: `${list.length} figures, ${missed.length} below target${missed.length ? ": " + missed.map((f) => `${f.name} (${f.target!.text})`).join("; ") : ""}`,
    exitCode: missed.length > 0 ? 2 : 0,
  };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  return abs >= 100 ? n.toFixed(0) : abs >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** Median wall time in ms of `fn` over `runs` runs after `warmup` runs. */
export async function medianMs(fn: () => unknown, runs = 15, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
