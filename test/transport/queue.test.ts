import assert from "node:assert/strict";
import { DeliveryQueue } from "../../src/transport/queue.js";

/** A queue whose drains run only when the test says so. */
function manual<T>(depth: number, handler: (item: T) => void | Promise<void>) {
  const pending: (() => void)[] = [];
  const errors: unknown[] = [];
  const queue = new DeliveryQueue<T>({ depth, handler, onError: (e) => errors.push(e), schedule: (cb) => void pending.push(cb) });
  const run = () => {
    while (pending.length > 0) pending.shift()!();
  };
  return { queue, run, errors, pending };
}

describe("DeliveryQueue", () => {
  it("keeps order across ring growth and wrap-around", () => {
    const seen: number[] = [];
    const { queue, run } = manual<number>(1000, (n) => void seen.push(n));
    // Interleave pushes and partial drains so the ring wraps before and while it grows.
    let next = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 37; i++) queue.push(next++);
      run();
    }
    for (let i = 0; i < 700; i++) queue.push(next++);
    run();
    assert.deepEqual(seen, Array.from({ length: next }, (_, i) => i));
    assert.equal(queue.counters.dropped, 0);
    assert.equal(queue.counters.highWater, 700);
  });

  it("drops the oldest at depth, after growing to it, and reports each drop from push()", () => {
    const seen: number[] = [];
    const { queue, run } = manual<number>(100, (n) => void seen.push(n));
    const kept: boolean[] = [];
    for (let i = 0; i < 250; i++) kept.push(queue.push(i));
    assert.equal(queue.length, 100);
    run();
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => 150 + i));
    assert.equal(queue.counters.dropped, 150);
    assert.equal(kept.filter((k) => !k).length, 150);
  });

  it("waits for a handler's promise before the next item, and idle() resolves after it", async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const queue = new DeliveryQueue<number>({
      depth: 10,
      handler: async (n) => {
        order.push(`start ${n}`);
        if (n === 0) await new Promise<void>((resolve) => (release = resolve));
        order.push(`end ${n}`);
      },
      onError: () => undefined,
    });
    queue.push(0);
    queue.push(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ["start 0"]);
    assert.equal(queue.pending, true);
    const idle = queue.idle();
    release();
    await idle;
    assert.deepEqual(order, ["start 0", "end 0", "start 1", "end 1"]);
    assert.equal(queue.pending, false);
  });

  it("discards waiting items on close (counted) and delivers nothing after", () => {
    const seen: number[] = [];
    const { queue, run } = manual<number>(10, (n) => void seen.push(n));
    queue.push(1);
    queue.push(2);
    queue.close();
    queue.push(3);
    run();
    assert.deepEqual(seen, []);
    assert.equal(queue.counters.discarded, 2);
  });

  it("refuses a depth that is not a positive integer", () => {
    assert.throws(() => new DeliveryQueue({ depth: 0, handler: () => undefined, onError: () => undefined }), /depth 0/);
    assert.throws(() => new DeliveryQueue({ depth: 1.5, handler: () => undefined, onError: () => undefined }), /depth 1.5/);
  });
});
