import { ApiProperty } from '@nestjs/swagger';

/** The one shape of every admin API error (4xx and 5xx). */
export class ErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase of statusCode.' }) error: string;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['limit must be an integer from 1 to 100'],
    description: 'What went wrong: one sentence, or one per invalid parameter.',
  })
  message: string | string[];
  @ApiProperty({ required: false, description: 'On 500 only: quote it to find the log line.' }) errorId?: string;
  @ApiProperty({ required: false, description: 'On 422 from an outbound call: the Twilio error code.' }) twilioCode?: number;
}
