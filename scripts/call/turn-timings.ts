/**
 * The simulator's view of one agent turn's stored `timings`: what the caller waited, then
 * where the time went, as indented lines printed under the turn.
 */
export type TurnTimings = Partial<Record<'total' | 'recognition' | 'queue' | 'model_first_token' | 'model_total' | 'synthesis_first_audio', number>>;

const WAIT: Record<string, string> = {
  gather: 'webhook in → TwiML out',
  stream: 'end of your speech → first audio of the answer',
  relay: 'prompt → first token sent to Twilio',
};

const LABELS: Array<[keyof TurnTimings, string]> = [
  ['recognition', 'recognition'],
  ['queue', 'queue wait'],
  ['model_first_token', 'model first token'],
  ['model_total', 'model total'],
  ['synthesis_first_audio', 'synthesis to first audio'],
];

/**
 * Lines (without indentation) describing a turn's timings, or none when the turn has none.
 * "other" is the part of the wait no stage accounts for (locks, Redis hops, enqueueing, the
 * event back to the api). The stages on the caller's path depend on the mode: gather speaks
 * only the whole answer (queue + model total); relay and stream speak from the first token on
 * (stream adds recognition before and synthesis after).
 */
export function formatTurnTimings(timings: TurnTimings | null | undefined, mode: string): string[] {
  if (!timings || typeof timings.total !== 'number') return [];
  const lines = [`⏱ caller waited ${timings.total} ms (${WAIT[mode] ?? mode})`];
  const parts = LABELS.filter(([key]) => typeof timings[key] === 'number').map(([key, label]) => `${label} ${timings[key]} ms`);
  const model = mode === 'gather' ? timings.model_total : timings.model_first_token;
  const onPath = (timings.recognition ?? 0) + (timings.queue ?? 0) + (model ?? 0) + (timings.synthesis_first_audio ?? 0);
  const other = timings.total - onPath;
  if (other >= 0) parts.push(`other ${other} ms`);
  if (parts.length) lines.push(`  ${parts.join(' · ')}`);
  return lines;
}
