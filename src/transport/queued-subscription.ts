/**
 * A subscription backed by a DeliveryQueue: the counters and lifecycle both adapters share.
 * Adapters feed the queue (in-process: the bus; rclnodejs: the raw callback) and say how to
 * detach from their graph on close.
 */
import type { RawMessage, Subscription } from "./port.js";
import type { DeliveryQueue } from "./queue.js";

export class QueuedSubscription implements Subscription {
  readonly topic: string;
  readonly type: string;
  protected readonly queue: DeliveryQueue<RawMessage>;
  readonly #detach: () => void;

  constructor(topic: string, type: string, queue: DeliveryQueue<RawMessage>, detach: () => void) {
    this.topic = topic;
    this.type = type;
    this.queue = queue;
    this.#detach = detach;
  }

  get dropped(): number {
    return this.queue.counters.dropped;
  }

  get delivered(): number {
    return this.queue.counters.delivered;
  }

  /** Handler exceptions and rejections. */
  get errors(): number {
    return this.queue.counters.errors;
  }

  /** Messages waiting for the handler now. */
  get queued(): number {
    return this.queue.length;
  }

  /** Most messages ever waiting at once (≤ depth). */
  get highWater(): number {
    return this.queue.counters.highWater;
  }

  get pending(): boolean {
    return this.queue.pending;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  close(): void {
    if (this.queue.closed) return;
    this.queue.close();
    this.#detach();
  }
}
