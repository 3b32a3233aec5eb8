import type { TurnTimings } from '#libs/database';

/** The worker's part of a turn's timings (queue wait and model), as carried by the job result. */
export type WorkerTimings = Pick<TurnTimings, 'queue' | 'model_first_token' | 'model_total'>;

const ms = (from: number | undefined, to: number | undefined) => (from !== undefined && to !== undefined ? Math.max(0, Math.round(to - from)) : undefined);

function compact(timings: TurnTimings): TurnTimings {
  return Object.fromEntries(Object.entries(timings).filter(([, v]) => typeof v === 'number')) as TurnTimings;
}

/** Gather: the caller waited from our webhook taking the turn to the TwiML with the answer. */
export function gatherTurnTimings(totalMs: number, worker: WorkerTimings | undefined): TurnTimings {
  return compact({ ...worker, total: Math.round(totalMs) });
}

/**
 * Stream (epoch ms): the caller waited from the end of their speech to the first frame of the
 * answer's audio; recognition ran from end of speech to text, synthesis from the answer's
 * first text to its first audio.
 */
export function streamTurnTimings(at: { speechEnd: number; recognized?: number; firstText?: number; firstAudio?: number }, worker: WorkerTimings | undefined): TurnTimings {
  return compact({
    ...worker,
    total: ms(at.speechEnd, at.firstAudio),
    recognition: ms(at.speechEnd, at.recognized),
    synthesis_first_audio: ms(at.firstText, at.firstAudio),
  });
}

/** Relay (epoch ms): the caller waited from Twilio's prompt to our first token sent back. */
export function relayTurnTimings(at: { prompt: number; firstToken: number }, worker: WorkerTimings | undefined): TurnTimings {
  return compact({ ...worker, total: ms(at.prompt, at.firstToken) });
}
