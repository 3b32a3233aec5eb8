/**
 * A FIFO with a hard bound: pushing into a full queue drops the oldest item and counts it,
 * so a slow consumer (STT, TTS, socket) can never grow a call's memory without limit.
 * Its ring grows on demand up to the bound (an idle call does not pay for a minute of slots).
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[] = new Array(8);
  private head = 0;
  private size = 0;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get length(): number {
    return this.size;
  }

  /** Adds `item`; returns the dropped oldest item when the queue was full. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.size === this.capacity) {
      evicted = this.shift();
      this.dropped++;
    }
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) % this.items.length] = item;
    this.size++;
    return evicted;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return item;
  }

  peek(): T | undefined {
    return this.size ? this.items[this.head] : undefined;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const n = this.size;
    this.items = new Array(8);
    this.head = 0;
    this.size = 0;
    return n;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.items[(this.head + i) % this.items.length] as T);
    return out;
  }

  private grow(): void {
    const next = new Array<T | undefined>(Math.min(this.capacity, this.items.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
