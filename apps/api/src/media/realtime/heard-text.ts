/**
 * The part of an answer's transcript the caller heard, estimated from the audio played: the same
 * share of the text as of the audio sent, cut back to a whole word. The model's transcript has no
 * word timings, and speech runs at a roughly even rate, so the share is a fair measure; cutting
 * back to a word boundary keeps the stored turn to words the caller heard in full.
 */
export function heardPrefix(text: string, playedMs: number, sentMs: number): string {
  if (!text || playedMs <= 0 || sentMs <= 0) return '';
  if (playedMs >= sentMs) return text;
  const cut = Math.floor((text.length * playedMs) / sentMs);
  if (cut >= text.length) return text;
  // Keep the word only if the cut falls right after it.
  const boundary = /\s/.test(text[cut] ?? ' ') ? cut : text.lastIndexOf(' ', cut);
  return boundary <= 0 ? '' : text.slice(0, boundary).trim();
}
