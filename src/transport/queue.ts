/**
 * One subscriber's bounded delivery queue, shared by both adapters: arrivals are pushed on the
 * publisher's (or the executor's) call stack and handed to the handler later, on a macrotask,
 * so a slow subscriber delays only itself. When the queue is full the oldest message goes
 * (ROS keep_last) and is counted, never silently lost.
 *
 * A handler may return a promise: the queue then waits for it before the next message, so an
 * asynchronous consumer (a recorder awaiting its file) applies backpressure to its own queue
 * and drops show up in its own counter.
 */

export interface DeliveryQueueOptions<T> {
  /** Queue capacity (QoS history depth), ≥ 1. */
  depth: number;
  handler: (item: T) => void | PromiseLike<void>;
  /** A throwing or rejecting handler is reported here; delivery goes on. */
  onError: (error: unknown) => void;
  /** How a drain is scheduled; setImmediate lets I/O run between batches. */
  schedule?: (callback: () => void) => void;
}

export interface DeliveryCounters {
  /** Messages handed to the handler. */
  delivered: number;
  /** Messages discarded because the queue was full. */
  dropped: number;
  /** Handler exceptions and rejections. */
  errors: number;
  /** Messages discarded by close() before delivery. */
  discarded: number;
  /** Largest number of messages ever waiting at once (≤ depth). */
  highWater: number;
}

const defaultSchedule = (callback: () => void): void => {
  setImmediate(callback);
};

export class DeliveryQueue<T> {
  readonly depth: number;
  // Grown on demand up to depth: keep_all-like depths (1e5+) cost nothing until used.
  #ring: (T | undefined)[];
  #head = 0;
  #size = 0;
  #scheduled = false;
  #running = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  readonly #handler: (item: T) => void | PromiseLike<void>;
  readonly #onError: (error: unknown) => void;
  readonly #schedule: (callback: () => void) => void;
  readonly #counters: DeliveryCounters = { delivered: 0, dropped: 0, errors: 0, discarded: 0, highWater: 0 };

  constructor(options: DeliveryQueueOptions<T>) {
    if (!Number.isInteger(options.depth) || options.depth < 1) {
      throw new RangeError(`queue depth ${options.depth} is invalid: expected an integer ≥ 1`);
    }
    this.depth = options.depth;
    this.#ring = new Array<T | undefined>(Math.min(options.depth, 16));
    this.#handler = options.handler;
    this.#onError = options.onError;
    this.#schedule = options.schedule ?? defaultSchedule;
  }

  get counters(): Readonly<DeliveryCounters> {
    return this.#counters;
  }

  /** Messages waiting. */
  get length(): number {
    return this.#size;
  }

  /** True while something is waiting, scheduled or running. */
  get pending(): boolean {
    return !this.#isIdle();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Enqueues an item; returns false when the oldest waiting item was dropped to make room. */
  push(item: T): boolean {
    if (this.#closed) return true;
    let kept = true;
    if (this.#size === this.depth) {
      this.#ring[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#ring.length;
      this.#size--;
      this.#counters.dropped++;
      kept = false;
    } else if (this.#size === this.#ring.length) {
      this.#grow();
    }
    this.#ring[(this.#head + this.#size) % this.#ring.length] = item;
    this.#size++;
    if (this.#size > this.#counters.highWater) this.#counters.highWater = this.#size;
    this.#kick();
    return kept;
  }

  /** Resolves once nothing is waiting and no handler is running. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops delivery; waiting messages are discarded (counted). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#counters.discarded += this.#size;
    this.#ring.fill(undefined);
    this.#size = 0;
    this.#settle();
  }

  #isIdle(): boolean {
    return this.#size === 0 && !this.#running && !this.#scheduled;
  }

  #kick(): void {
    if (this.#scheduled || this.#running || this.#closed) return;
    this.#scheduled = true;
    this.#schedule(this.#drain);
  }

  #grow(): void {
    const capacity = Math.min(this.depth, this.#ring.length * 2);
    const next = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#size; i++) next[i] = this.#ring[(this.#head + i) % this.#ring.length];
    this.#ring = next;
    this.#head = 0;
  }

  #shift(): T {
    const item = this.#ring[this.#head] as T;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
    return item;
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    // Only what is waiting now: messages a handler publishes re-entrantly wait for the next
    // turn, so a feedback loop cannot starve the event loop.
    let budget = this.#size;
    while (budget-- > 0 && this.#size > 0 && !this.#closed) {
      const item = this.#shift();
      this.#counters.delivered++;
      let result: void | PromiseLike<void>;
      try {
        result = this.#handler(item);
      } catch (error) {
        this.#fail(error);
        continue;
      }
      if (isThenable(result)) {
        this.#running = true;
        result.then(
          () => this.#resume(),
          (error: unknown) => {
            this.#fail(error);
            this.#resume();
          },
        );
        return;
      }
    }
    if (this.#size > 0 && !this.#closed) this.#kick();
    else this.#settle();
  };

  #resume(): void {
    this.#running = false;
    if (this.#size > 0 && !this.#closed) this.#kick();
    else this.#settle();
  }

  #fail(error: unknown): void {
    this.#counters.errors++;
    try {
      this.#onError(error);
    } catch {
      // An error reporter that throws must not stop delivery.
    }
  }

  #settle(): void {
    if (!this.#isIdle() && !this.#closed) return;
    if (this.#running) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function isThenable(value: unknown): value is PromiseLike<void> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
