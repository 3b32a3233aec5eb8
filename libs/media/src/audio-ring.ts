/**
 * A bounded byte buffer of audio that keeps the most recent `capacity` bytes: writing past the
 * bound overwrites (drops) the oldest audio and counts it. Storage is allocated on first write,
 * outside Node's shared Buffer pool, so a call that never speaks costs nothing and a kept frame
 * never pins an 8 KB pool slab.
 */
export class AudioRing {
  private storage?: Buffer;
  private start = 0;
  private size = 0;
  /** Bytes dropped because the ring was full. */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get length(): number {
    return this.size;
  }

  write(bytes: Uint8Array): void {
    const storage = (this.storage ??= Buffer.allocUnsafeSlow(this.capacity));
    let data = bytes;
    if (data.length > this.capacity) {
      this.dropped += data.length - this.capacity;
      data = data.subarray(data.length - this.capacity);
    }
    const overflow = this.size + data.length - this.capacity;
    if (overflow > 0) {
      this.start = (this.start + overflow) % this.capacity;
      this.size -= overflow;
      this.dropped += overflow;
    }
    const end = (this.start + this.size) % this.capacity;
    const first = Math.min(data.length, this.capacity - end);
    storage.set(data.subarray(0, first), end);
    if (first < data.length) storage.set(data.subarray(first), 0);
    this.size += data.length;
  }

  /** A copy of the buffered audio, oldest first. */
  read(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    if (!this.storage || this.size === 0) return out;
    const first = Math.min(this.size, this.capacity - this.start);
    this.storage.copy(out, 0, this.start, this.start + first);
    if (first < this.size) this.storage.copy(out, first, 0, this.size - first);
    return out;
  }

  /** Empties the ring; `release` also frees its storage. */
  clear(release = false): void {
    this.start = 0;
    this.size = 0;
    if (release) this.storage = undefined;
  }
}
