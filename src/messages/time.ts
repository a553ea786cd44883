/** ROS time values and nanosecond bigints. Absolute stamps are always bigint ns in syncbag. */
export interface RosTime {
  sec: number;
  nanosec: number;
}

const NS_PER_S = 1_000_000_000n;

export function toNs(time: RosTime): bigint {
  return BigInt(time.sec) * NS_PER_S + BigInt(time.nanosec);
}

/** Floors toward −∞ so negative times keep 0 ≤ nanosec < 1e9, as ROS requires. */
export function fromNs(ns: bigint): RosTime {
  let sec = ns / NS_PER_S;
  let rem = ns % NS_PER_S;
  if (rem < 0n) {
    rem += NS_PER_S;
    sec -= 1n;
  }
  return { sec: Number(sec), nanosec: Number(rem) };
}

/** Seconds (float) between two ns stamps: a − b. Exact for differences below ~100 days. */
export function diffSeconds(a: bigint, b: bigint): number {
  return Number(a - b) / 1e9;
}

/** ns stamp + float seconds, rounded to the nearest ns. */
export function addSeconds(a: bigint, seconds: number): bigint {
  return a + BigInt(Math.round(seconds * 1e9));
}

export function secondsToNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}
