/**
 * Cuts streamed model text into sentences for synthesis: one TTS request (and one mark) per
 * sentence. A boundary is taken only once a non-space character follows the punctuation, so
 * "3.5" or "Mr. " split late rather than wrongly; `flush()` returns the rest at the end.
 */
export class SentenceChunker {
  private buffer = '';

  constructor(private readonly maxChars = 400) {}

  /** Adds text; returns the sentences it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      const match = /[.!?…]+["')\]]*\s+(?=\S)|\n+/.exec(this.buffer);
      const cut = match ? match.index + match[0].length : this.buffer.length > this.maxChars ? this.softCut() : -1;
      if (cut < 0) break;
      const sentence = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut);
      if (sentence) out.push(sentence);
    }
    return out;
  }

  /** The text left over (the last sentence), if any. */
  flush(): string | undefined {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest || undefined;
  }

  /** An over-long run without punctuation is cut at its last space (or hard at the bound). */
  private softCut(): number {
    const space = this.buffer.lastIndexOf(' ', this.maxChars);
    return space > 0 ? space + 1 : this.maxChars;
  }
}
