import { Global, Module } from '@nestjs/common';
import { TranscriptStore } from './transcript.store.js';
import { TranscriptWriter } from './transcript.writer.js';

@Global()
@Module({ providers: [TranscriptStore, TranscriptWriter], exports: [TranscriptStore, TranscriptWriter] })
export class TranscriptsModule {}
