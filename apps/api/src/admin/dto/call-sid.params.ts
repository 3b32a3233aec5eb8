import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { CALL_SID } from './validators.js';

export class CallSidParams {
  @ApiProperty({ example: 'CA0123456789abcdef0123456789abcdef', pattern: CALL_SID.source })
  @Matches(CALL_SID, { message: '$property must be a Twilio call SID (CA followed by 32 hex digits)' })
  callSid: string;
}
