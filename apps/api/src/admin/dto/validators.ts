import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { Matches } from 'class-validator';

export const E164 = /^\+[1-9]\d{6,14}$/;
export const CALL_SID = /^CA[0-9a-f]{32}$/;

/**
 * An E.164 number. In a query string an unencoded `+` arrives as a space (form encoding), so
 * " 15551234567" is read as "+15551234567" rather than rejected.
 */
export function IsE164(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' && /^ \d+$/.test(value) ? `+${value.slice(1)}` : value)),
    Matches(E164, { message: '$property must be an E.164 phone number such as +15551234567' }),
  );
}
