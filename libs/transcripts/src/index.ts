export { TranscriptsModule } from './transcripts.module.js';
export { TranscriptStore } from './transcript.store.js';
export { TranscriptWriter } from './transcript.writer.js';
