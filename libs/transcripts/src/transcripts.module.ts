import { Global, Module } from '@nestjs/common';
import { PiiRedactor } from '#libs/redaction';
import { TranscriptStore } from './transcript.store.js';
import { TranscriptWriter } from './transcript.writer.js';

@Global()
@Module({ providers: [TranscriptStore, TranscriptWriter, PiiRedactor], exports: [TranscriptStore, TranscriptWriter] })
export class TranscriptsModule {}
